"""The cost probe runs a bounded slice of a profile and counts the whole profile's work."""

from reprobook.estimate import Probe, project
from reprobook.run import resolve_parameters
from reprobook.seft.chapter import validate_parameters
from reprobook.seft.estimate import probe, profile_tokens


def test_smoke_probe_is_sane():
    parameters = resolve_parameters("seft", "smoke")
    result = probe(parameters, 1.0)
    assert isinstance(result, Probe)
    assert result.device == "cpu"
    assert result.units_done > 0 and result.units_done % (parameters["batch"] * parameters["context"]) == 0
    assert 0 < result.wall_seconds < 60 and result.cpu_seconds >= 0
    total, cells = profile_tokens(validate_parameters(**parameters))
    assert result.units_total == total and result.cells == cells
    assert project(result).wall_hours_serial > 0


def test_paper_profile_counts_more_work_than_smoke():
    smoke = profile_tokens(validate_parameters(**resolve_parameters("seft", "smoke")))
    paper = profile_tokens(validate_parameters(**resolve_parameters("seft", "paper")))
    assert paper[0] > 20 * smoke[0] and paper[1] > smoke[1]
