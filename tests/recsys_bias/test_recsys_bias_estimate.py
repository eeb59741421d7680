"""The cost probe: a short slice of the smoke profile gives a sane projection."""

from reprobook.estimate import Probe, project
from reprobook.recsys_bias.chapter import validate_parameters
from reprobook.recsys_bias.estimate import probe, profile_configs
from reprobook.run import resolve_parameters


def test_smoke_probe_is_sane():
    parameters = resolve_parameters("recsys_bias", "smoke")
    result = probe(parameters, 1.0)
    configs = profile_configs(validate_parameters(**parameters))
    assert isinstance(result, Probe) and result.unit == "fits" and result.device == "cpu"
    assert result.units_total == result.cells == len(configs)
    assert 1 <= result.units_done <= result.units_total
    projection = project(result)
    assert 0 < projection.wall_hours_serial < 1 and projection.cpu_hours > 0
    assert "fits in the smoke profile" in result.notes
