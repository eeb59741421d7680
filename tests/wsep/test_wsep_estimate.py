"""The wsep cost probe: a short slice at the smoke profile returns a sane Probe."""

from reprobook.estimate import Probe, project
from reprobook.run import resolve_parameters
from reprobook.wsep.estimate import probe


def test_smoke_probe_is_sane():
    parameters = resolve_parameters("wsep", "smoke")
    result = probe(parameters, seconds=1.0)
    assert isinstance(result, Probe)
    assert result.unit == "random processes"
    assert 1 <= result.units_done <= result.units_total
    # a fast machine may run more processes in the slice than the smoke profile has in all
    assert result.units_total == max(parameters["family_processes"] * len(parameters["families"]), result.units_done)
    assert result.wall_seconds > 0 and result.cpu_seconds >= 0
    assert result.cells >= len(parameters["families"])
    assert "not in it" in result.notes
    assert project(result).wall_hours_serial > 0
