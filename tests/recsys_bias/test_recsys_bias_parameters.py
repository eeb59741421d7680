"""Every size parameter of the chapter has a documented maximum; absurd values are refused by name."""

import pytest

from reprobook.params import ParameterError
from reprobook.recsys_bias.chapter import MAXIMA, validate_parameters


@pytest.mark.parametrize(("name", "value", "limit"), [
    ("synthetic_users", 10**9, MAXIMA["synthetic_users"]), ("synthetic_items", 10**9, MAXIMA["synthetic_items"]),
    ("mf_epochs", 10**6, MAXIMA["epochs"]), ("svdpp_epochs", 10**6, MAXIMA["epochs"]),
    ("nmf_epochs", 10**6, MAXIMA["epochs"]), ("ials_epochs", 10**6, MAXIMA["epochs"]),
    ("jobs", 10**6, MAXIMA["jobs"]), ("k", 10**6, 100)])
def test_absurd_sizes_are_refused_with_the_allowed_range(name, value, limit):
    with pytest.raises(ParameterError, match=rf"parameter '{name}' must be .*{limit}"):
        validate_parameters(**{name: value})


@pytest.mark.parametrize(("name", "value"), [("smoothing", 1e12), ("lambdas", [1e12]), ("candidate_lengths", [10**7]),
                                             ("seeds", [10**9])])
def test_absurd_values_in_lists_and_floats_are_refused(name, value):
    with pytest.raises(ParameterError, match=name):
        validate_parameters(**{name: value})


def test_too_many_seeds_are_refused_and_the_paper_profile_fits():
    with pytest.raises(ParameterError, match="at most 50 seeds"):
        validate_parameters(seeds=list(range(51)))
    validate_parameters(profile="paper", seeds=[0, 1, 2, 3, 4], svdpp_epochs=30, jobs=8)
