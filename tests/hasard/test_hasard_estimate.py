"""The hasard cost probe: a short slice at the smoke profile returns a sane Probe."""

from reprobook.estimate import Probe, project
from reprobook.hasard.estimate import PROBE_ENVS, probe
from reprobook.run import resolve_parameters


def test_smoke_probe_is_sane():
    parameters = resolve_parameters("hasard", "smoke")
    result = probe(parameters, seconds=1.0)
    assert isinstance(result, Probe)
    assert result.unit == "env steps"
    rollout_steps = min(parameters["pixel_envs"], PROBE_ENVS) * 128
    assert result.units_done >= rollout_steps and result.units_done % rollout_steps == 0
    assert result.units_total >= parameters["pixel_steps"] * len(parameters["pixel_methods"])
    assert result.wall_seconds > 0 and result.cpu_seconds > 0
    assert project(result).cpu_hours > 0
