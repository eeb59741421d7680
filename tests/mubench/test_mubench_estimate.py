"""The cost probe of the paper profile, run briefly at the smoke profile (stub backend)."""

import pytest

from reprobook.estimate import Probe, project
from reprobook.mubench.chapter import validate_parameters
from reprobook.mubench.estimate import probe
from reprobook.params import ParameterError
from reprobook.run import resolve_parameters


def test_smoke_probe_is_sane():
    parameters = resolve_parameters("mubench", "smoke")
    params = validate_parameters(**parameters)
    measured = probe(parameters, 1.0)
    assert isinstance(measured, Probe) and measured.unit == "items"
    assert 0 < measured.units_done <= measured.units_total
    assert measured.cells == len(params.languages) + len(params.world_keys())
    assert 0.5 < measured.wall_seconds < 30 and measured.cpu_seconds > 0
    assert measured.device == "cpu" and "not available offline" in measured.notes
    # the whole profile: every probe item plus every tiny-world step at the measured rates
    assert measured.units_total > len(params.languages) * 7
    projection = project(measured)
    assert projection.wall_hours_serial > 0 and projection.gpu_hours == 0


def test_device_parameter_is_validated():
    with pytest.raises(ParameterError, match="'device'"):
        validate_parameters(profile="smoke", model="stub", device="tpu")
    assert validate_parameters(profile="smoke", model="stub", device="auto").world_configs()[0].device == "auto"
