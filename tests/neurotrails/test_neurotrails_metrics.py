"""Ensemble metrics against torchmetrics, scikit-learn, scipy and hand-checked extremes."""

import numpy as np
import pytest
import torch
from scipy.special import softmax
from scipy.stats import entropy
from sklearn.metrics import log_loss
from torchmetrics.classification import MulticlassCalibrationError

from reprobook.neurotrails.metrics import (
    ensemble_log_probs,
    ensemble_metrics,
    expected_calibration_error,
    mean_pairwise_kl,
    pairwise_disagreement,
)


def random_logits(n=400, heads=3, classes=10, seed=0, scale=2.0):
    generator = torch.Generator().manual_seed(seed)
    return torch.randn(n, heads, classes, generator=generator, dtype=torch.float64) * scale, \
        torch.randint(0, classes, (n,), generator=generator)


def test_identical_heads_give_no_disagreement_and_no_gain():
    logits, labels = random_logits(heads=1)
    copies = logits.expand(-1, 4, -1)
    metrics = ensemble_metrics(copies, labels)
    single = ensemble_metrics(logits, labels)
    assert metrics["disagreement"] == 0.0 and metrics["pairwise_kl"] == pytest.approx(0.0, abs=1e-12)
    assert metrics["accuracy"] == single["accuracy"] == metrics["head_accuracy_mean"]
    assert metrics["nll"] == pytest.approx(single["nll"])
    assert np.isnan(single["disagreement"])


def test_independent_uniform_classifiers_disagree_one_minus_one_over_k():
    generator = torch.Generator().manual_seed(1)
    predictions = torch.randint(0, 10, (20_000, 4), generator=generator)
    logits = torch.nn.functional.one_hot(predictions, 10).double()
    assert pairwise_disagreement(logits) == pytest.approx(0.9, abs=0.01)


def test_logit_and_probability_averaging_differ_and_match_numpy():
    logits, labels = random_logits(seed=2)
    array = logits.numpy()
    by_logits = softmax(array.mean(axis=1), axis=-1)
    by_probs = softmax(array, axis=-1).mean(axis=1)
    np.testing.assert_allclose(ensemble_log_probs(logits, "logits").exp().numpy(), by_logits, rtol=1e-10)
    np.testing.assert_allclose(ensemble_log_probs(logits, "probabilities").exp().numpy(), by_probs, rtol=1e-10)
    assert not np.allclose(by_logits, by_probs, atol=1e-3)
    assert ensemble_metrics(logits, labels)["nll"] == pytest.approx(log_loss(labels.numpy(), by_logits,
                                                                              labels=list(range(10))))
    assert ensemble_metrics(logits, labels, "probabilities")["nll"] == pytest.approx(
        log_loss(labels.numpy(), by_probs, labels=list(range(10))))


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_ece_matches_torchmetrics(seed):
    logits, labels = random_logits(n=2000, heads=1, seed=seed, scale=1.0 + seed)
    probs = logits[:, 0].softmax(-1)
    reference = MulticlassCalibrationError(num_classes=10, n_bins=15, norm="l1")(probs.float(), labels)
    assert expected_calibration_error(probs, labels, 15) == pytest.approx(float(reference), abs=1e-5)


def test_brier_and_kl_match_direct_formulas():
    logits, labels = random_logits(n=300, heads=3, seed=5)
    array = logits.numpy()
    probs = softmax(array.mean(axis=1), axis=-1)
    brier = ((probs - np.eye(10)[labels.numpy()]) ** 2).sum(axis=1).mean()
    assert ensemble_metrics(logits, labels)["brier"] == pytest.approx(brier)
    members = softmax(array, axis=-1)
    kls = [entropy(members[n, i], members[n, j]) for n in range(300) for i in range(3) for j in range(3) if i != j]
    assert mean_pairwise_kl(logits) == pytest.approx(np.mean(kls))
