"""Every size parameter of the chapter has a documented maximum; absurd values are refused by name."""

import pytest

from reprobook.ficsum.chapter import MAXIMA, validate_parameters
from reprobook.params import ParameterError


@pytest.mark.parametrize(("name", "value"), [("segment_length", 10**12), ("repeats", 10**6), ("window", 10**5),
                                             ("baseline_seeds", 10**6), ("bench_length", 10**9), ("jobs", 10**6)])
def test_absurd_sizes_are_refused_with_the_allowed_range(name, value):
    with pytest.raises(ParameterError, match=rf"parameter '{name}' must be an integer in \[\d+, {MAXIMA[name]}\]"):
        validate_parameters(**{name: value})


def test_too_many_seeds_are_refused():
    with pytest.raises(ParameterError, match="at most 100 seeds"):
        validate_parameters(seeds=list(range(101)))
    with pytest.raises(ParameterError, match=r"seeds\[0\]"):
        validate_parameters(seeds=[10**9])


def test_the_maxima_admit_the_paper_profile():
    validate_parameters(profile="paper", seeds=list(range(1, 11)), repeats=3, bench_length=33750, jobs=16,
                        baseline_seeds=10)


def test_no_baselines_is_not_blamed_on_the_forest_streams():
    assert validate_parameters(baselines=[]).arf_streams == []
    with pytest.raises(ParameterError, match="'arf_streams' and 'baselines' disagree"):
        validate_parameters(baselines=["lower"], arf_streams=["cmc"])
