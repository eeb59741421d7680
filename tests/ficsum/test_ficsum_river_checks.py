"""FiCSUMClassifier follows river's conventions: river's own estimator checks, plus input aliasing and
sample weights on a recurring stream long enough to drift and reuse concepts."""

import pytest
from river import checks

from reprobook.ficsum import FiCSUMClassifier, make_stream
from reprobook.ficsum.metrics import accuracy


def _check_name(check):
    return getattr(check, "__name__", repr(check))


RIVER_CHECKS = list(checks.yield_checks(FiCSUMClassifier()))


@pytest.mark.parametrize("check", RIVER_CHECKS, ids=[_check_name(c) for c in RIVER_CHECKS])
def test_river_estimator_check(check):
    check(FiCSUMClassifier())


def _prequential(model, stream, reuse_dict: bool, weight: float | None = None):
    shared: dict = {}
    predictions, concepts = [], []
    for x, y, _ in stream:
        if reuse_dict:
            shared.clear()
            shared.update(x)
            x = shared
        predictions.append(model.predict_one(x))
        if weight is None:
            model.learn_one(x, y)
        else:
            model.learn_one(x, y, w=weight)
        concepts.append(model.active_concept_id)
    return predictions, concepts


@pytest.fixture(scope="module")
def stream():
    return make_stream("stagger", seed=1, segment_length=1500, repeats=2)


@pytest.fixture(scope="module")
def fresh_run(stream):
    return _prequential(FiCSUMClassifier(), stream, reuse_dict=False)


def test_a_reader_that_reuses_one_dict_gets_the_same_predictions(stream, fresh_run):
    reused = _prequential(FiCSUMClassifier(), stream, reuse_dict=True)
    assert reused == fresh_run
    truth = [y for _, y, _ in stream]
    assert accuracy(truth, fresh_run[0]) > 0.6
    # the stream drifts and recurs: the classifier switched concepts, so buffers were reset and reused
    assert len(set(fresh_run[1])) >= 2


def test_sample_weight_is_honoured(stream, fresh_run):
    # w = 1 is the default; another weight changes what the trees learn
    assert _prequential(FiCSUMClassifier(), stream, reuse_dict=False, weight=1.0) == fresh_run
    assert _prequential(FiCSUMClassifier(), stream, reuse_dict=False, weight=0.01) != fresh_run
