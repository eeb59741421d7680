"""The cost probe: a short slice of the smoke profile returns a sane Probe, and its projection is consistent."""

import pytest

from reprobook.estimate import Probe, project
from reprobook.neurotrails.chapter import validate_parameters
from reprobook.neurotrails.estimate import probe, total_steps
from reprobook.params import ParameterError
from reprobook.run import resolve_parameters


def test_smoke_probe_is_sane():
    parameters = resolve_parameters("neurotrails", "smoke")
    result = probe(parameters, seconds=1.0)
    assert isinstance(result, Probe) and result.device == "cpu"
    configs = validate_parameters(**parameters).configs()
    assert result.cells == len(configs)
    # every run's steps count at least a little, and the probed run alone is bounded by its own steps
    assert result.units_total > max(total_steps(config) for config in configs)
    assert 0 < result.units_done <= result.units_total
    assert 0 < result.wall_seconds < 60 and result.cpu_seconds > 0
    projection = project(result)
    assert projection.wall_hours_parallel <= projection.wall_hours_serial and projection.gpu_hours == 0.0


def test_probe_refuses_bad_parameters_by_name():
    with pytest.raises(ParameterError, match="device"):
        probe({"profile": "smoke", "device": "tpu"}, seconds=1.0)
