"""The chapter's cost probe: a short slice at the smoke profile returns a sane projection."""

from __future__ import annotations

import pytest

from reprobook.estimate import project
from reprobook.params import ParameterError
from reprobook.reobench.estimate import SHORT_BATCH, probe
from reprobook.run import resolve_parameters


def test_smoke_probe_is_sane() -> None:
    parameters = resolve_parameters("reobench", "smoke")
    result = probe(parameters, seconds=1.0)
    assert result.unit == "pre-training images"
    assert result.device == "cpu"
    assert result.cells == len(parameters["seeds"])
    assert result.units_done % SHORT_BATCH == 0 and result.units_done >= SHORT_BATCH
    epochs = parameters["epochs"]["supervised"]
    runs = 1 + len(parameters["size_widths"])  # the supervised CNN at its width and at each further width
    assert runs == 2 and "×0.25" in result.notes
    # a fast machine may pre-train more images in the slice than the smoke profile needs in all
    assert result.units_total == max(runs * epochs * parameters["n_train"] * len(parameters["seeds"]),
                                     result.units_done)
    assert 0 < result.wall_seconds < 60 and result.cpu_seconds > 0
    projection = project(result)
    assert projection.gpu_hours == 0 and projection.wall_hours_serial > 0
    assert "pre-training only" in result.notes


def test_probe_validates_parameters() -> None:
    with pytest.raises(ParameterError, match="image_size"):
        probe({"profile": "smoke", "image_size": 50}, seconds=1.0)
