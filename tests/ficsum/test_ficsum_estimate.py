"""The cost probe: a short slice of the smoke profile gives a sane projection."""

from reprobook.estimate import Probe, project
from reprobook.ficsum.chapter import validate_parameters
from reprobook.ficsum.estimate import probe, profile_runs, run_length
from reprobook.run import resolve_parameters


def test_smoke_probe_is_sane():
    parameters = resolve_parameters("ficsum", "smoke")
    result = probe(parameters, 1.0)
    assert isinstance(result, Probe) and result.unit == "observations" and result.device == "cpu"
    runs = profile_runs(validate_parameters(**parameters))
    assert result.cells == len(runs)
    assert result.units_total == sum(run_length(config) for config in runs)
    assert 0 < result.units_done <= result.units_total
    projection = project(result)
    assert 0 < projection.wall_hours_serial < 1 and projection.cpu_hours > 0
