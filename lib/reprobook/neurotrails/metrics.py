"""Ensemble metrics from per-head logits (N, M, K), vectorised over heads and samples (§2.5, §5.2).

The ensemble averages the heads' **logits** (the reference code's choice) or, as a switch, their
probabilities. ECE uses 15 equal-width confidence bins on the top-class probability (our own choice:
the reference script computes NLL only).

>>> logits = torch.tensor([[[2.0, 0.0], [0.0, 2.0]], [[3.0, 0.0], [2.0, 0.0]]])
>>> m = ensemble_metrics(logits, torch.tensor([0, 0]))
>>> m["accuracy"], m["disagreement"]
(1.0, 0.5)
"""

from __future__ import annotations

import itertools
import math

import torch

__all__ = ["ensemble_log_probs", "expected_calibration_error", "pairwise_disagreement", "mean_pairwise_kl",
           "ensemble_metrics", "AVERAGING"]

AVERAGING = ("logits", "probabilities")


def ensemble_log_probs(logits: torch.Tensor, averaging: str = "logits") -> torch.Tensor:
    """Log-probabilities (N, K) of the ensemble of M heads: softmax of mean logits, or log of mean softmax."""
    if averaging == "logits":
        return torch.log_softmax(logits.mean(dim=1), dim=-1)
    if averaging == "probabilities":
        return torch.logsumexp(torch.log_softmax(logits, dim=-1), dim=1) - math.log(logits.shape[1])
    raise ValueError(f"averaging must be one of {AVERAGING}; got {averaging!r}")


def expected_calibration_error(probs: torch.Tensor, labels: torch.Tensor, n_bins: int = 15) -> float:
    """Σ_bins (n_bin / N)·|accuracy − confidence| over equal-width bins of the top-class probability.

    Bins are (k/n, (k+1)/n], the convention of torchmetrics' ``MulticlassCalibrationError``.
    """
    confidence, predicted = probs.max(dim=1)
    correct = (predicted == labels).double()
    bins = (torch.ceil(confidence.double() * n_bins).long() - 1).clamp(0, n_bins - 1)
    accuracy_sum = torch.bincount(bins, weights=correct, minlength=n_bins)
    confidence_sum = torch.bincount(bins, weights=confidence.double(), minlength=n_bins)
    return float((accuracy_sum - confidence_sum).abs().sum() / len(labels))


def pairwise_disagreement(logits: torch.Tensor) -> float:
    """Mean over head pairs i < j of the fraction of samples whose argmax differs (NaN for M = 1)."""
    predictions = logits.argmax(dim=-1)
    n_heads = predictions.shape[1]
    if n_heads < 2:
        return float("nan")
    pairs = list(itertools.combinations(range(n_heads), 2))
    first, second = zip(*pairs, strict=True)
    differ = predictions[:, list(first)] != predictions[:, list(second)]
    return float(differ.double().mean())


def mean_pairwise_kl(logits: torch.Tensor) -> float:
    """Mean over ordered head pairs i ≠ j of the mean over samples of KL(p_i ‖ p_j) (NaN for M = 1)."""
    n_heads = logits.shape[1]
    if n_heads < 2:
        return float("nan")
    log_p = torch.log_softmax(logits.double(), dim=-1)
    p = log_p.exp()
    # KL(i‖j) = Σ_k p_i (log p_i − log p_j), for every pair at once: (N, M, M)
    cross = torch.einsum("nik,njk->nij", p, log_p)
    entropy_term = (p * log_p).sum(dim=-1)
    kl = entropy_term[:, :, None] - cross
    off_diagonal = ~torch.eye(n_heads, dtype=torch.bool)
    return float(kl[:, off_diagonal].mean())


def ensemble_metrics(logits: torch.Tensor, labels: torch.Tensor, averaging: str = "logits",
                     n_bins: int = 15) -> dict[str, float]:
    """Accuracy, NLL, ECE, Brier of the ensemble; per-head accuracy; disagreement and KL between heads."""
    log_probs = ensemble_log_probs(logits.double(), averaging)
    probs = log_probs.exp()
    one_hot = torch.nn.functional.one_hot(labels, logits.shape[-1]).double()
    head_accuracy = (logits.argmax(dim=-1) == labels[:, None]).double().mean(dim=0)
    return {
        "accuracy": float((log_probs.argmax(dim=1) == labels).double().mean()),
        "nll": float(-log_probs.gather(1, labels[:, None]).mean()),
        "ece": expected_calibration_error(probs, labels, n_bins),
        "brier": float(((probs - one_hot) ** 2).sum(dim=1).mean()),
        "head_accuracy_mean": float(head_accuracy.mean()),
        "head_accuracy_min": float(head_accuracy.min()),
        "head_accuracy_max": float(head_accuracy.max()),
        "disagreement": pairwise_disagreement(logits),
        "pairwise_kl": mean_pairwise_kl(logits),
    }
