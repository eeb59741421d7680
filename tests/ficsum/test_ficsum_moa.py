"""The MOA baselines (RCD, DWM through capymoa) behind river's API, and their parameter checks."""

import numpy as np
import pytest

from reprobook.ficsum import make_stream, moa
from reprobook.ficsum.baselines import make_baseline, prequential_run
from reprobook.ficsum.chapter import validate_parameters
from reprobook.ficsum.metrics import concept_f1
from reprobook.ficsum.report import main_grid
from reprobook.params import ParameterError

needs_moa = pytest.mark.skipif(moa.moa_missing() is not None, reason=str(moa.moa_missing()))


@pytest.mark.parametrize("kwargs, name", [
    ({"method": "rdc", "classes": [0, 1]}, "method"),
    ({"method": "rcd", "classes": [1]}, "classes"),
    ({"method": "dwm", "classes": [1, 1]}, "classes"),
])
def test_bad_parameters_name_the_parameter(kwargs, name):
    with pytest.raises(ParameterError, match=name):
        moa.MOABaseline(**kwargs)


def test_a_missing_capymoa_is_reported_with_the_install_line(monkeypatch):
    monkeypatch.setattr(moa, "find_spec", lambda module: None if module == "capymoa" else object())
    assert "capymoa" in moa.moa_missing() and moa.INSTALL in moa.moa_missing()
    with pytest.raises(ParameterError, match="--no-deps capymoa"):
        moa.MOABaseline("rcd", classes=[0, 1])
    with pytest.raises(ParameterError, match="drop 'rcd' and 'dwm'"):
        validate_parameters(baselines=["lower", "rcd"], moa_streams=["stagger"])


def test_moa_streams_and_baselines_must_agree():
    assert validate_parameters(baselines=["lower"]).moa_streams == []
    with pytest.raises(ParameterError, match="'moa_streams' and 'baselines' disagree"):
        validate_parameters(baselines=["lower"], moa_streams=["stagger"])
    with pytest.raises(ParameterError, match="moa_streams"):
        validate_parameters(moa_streams=["stagger", "nile"])
    with pytest.raises(ParameterError, match="moa_seeds"):
        validate_parameters(moa_seeds=-1)


def test_the_grid_runs_the_moa_baselines_on_their_streams_and_first_seeds():
    params = validate_parameters(seeds=[1, 2, 3], streams=["stagger", "sea"], baseline_seeds=3, moa_seeds=2,
                                 baselines=["lower", "rcd", "dwm"], moa_streams=["sea"])
    runs = [(run.stream, run.seed, run.method) for run in main_grid(params)]
    assert sorted(r for r in runs if r[2] == "rcd") == [("sea", 1, "rcd"), ("sea", 2, "rcd")]
    assert sorted(r for r in runs if r[2] == "dwm") == [("sea", 1, "dwm"), ("sea", 2, "dwm")]


@needs_moa
@pytest.mark.parametrize("method", moa.MOA_METHODS)
def test_moa_baselines_learn_and_log_their_system_concepts(method):
    stream = make_stream("stagger", seed=1, segment_length=1000, repeats=2)
    model = make_baseline(method, seed=1, classes=stream.classes)
    log = prequential_run(model, stream)
    assert log.correct.mean() > 0.75
    ids = log.system_concept
    assert ids[0] == 0 and np.all(np.diff(np.unique(ids)) == 1)  # numbered by first appearance
    assert np.unique(ids).size >= 2  # both react to the three abrupt changes
    # drift is flagged exactly where the system concept changes
    changes = np.flatnonzero(np.diff(ids) != 0) + 1
    assert np.array_equal(np.flatnonzero(log.drift), changes)
    assert 0.0 < concept_f1(log.true_concept, ids) <= 1.0
    proba = model.predict_proba_one({"size": 0, "color": 0, "shape": 0})
    assert set(proba) <= set(stream.classes) and sum(proba.values()) == pytest.approx(1.0)


@needs_moa
def test_an_unknown_label_is_refused():
    model = moa.MOABaseline("dwm", classes=[0, 1])
    with pytest.raises(ParameterError, match="classes"):
        model.learn_one({"a": 1.0}, 2)
