"""MNIST-1D (Greydanus, 2020), regenerated offline and vectorised over samples, with a shifted variant.

Ten 12-point templates, one per digit, are each padded with 36–60 zeros, stretched to 72 points,
scaled, circularly translated, filled with Gaussian-smoothed noise where the padding is, perturbed
with iid noise, sheared by a linear ramp and resampled to 40 points: the published generator's
steps, drawn for all samples at once. Inputs are standardised with the mean and standard deviation
of a reference (training) set so that a shifted set stays shifted.

>>> settings = GeneratorSettings()
>>> x, y = generate(settings, 1000, seed=0)
>>> x.shape, y.shape, sorted(set(y.tolist())) == list(range(10))
((1000, 40), (1000,), True)
>>> bool(np.array_equal(generate(settings, 50, seed=3)[0], generate(settings, 50, seed=3)[0]))
True
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace

import numpy as np
from scipy.ndimage import gaussian_filter1d

__all__ = ["GeneratorSettings", "templates", "generate", "Splits", "make_splits", "array_hash"]

_DIGITS = np.array([
    [5, 6, 6.5, 6.75, 7, 7, 7, 7, 6.75, 6.5, 6, 5],
    [5, 3, 3, 3.4, 3.8, 4.2, 4.6, 5, 5.4, 5.8, 5, 5],
    [5, 6, 6.5, 6.5, 6, 5.25, 4.75, 4, 3.5, 3.5, 4, 5],
    [5, 6, 6.5, 6.5, 6, 5, 5, 6, 6.5, 6.5, 6, 5],
    [5, 4.4, 3.8, 3.2, 2.6, 2.6, 5, 5, 5, 5, 5, 5],
    [5, 3, 3, 3, 3, 5, 6, 6.5, 6.5, 6, 4.5, 5],
    [5, 4, 3.5, 3.25, 3, 3, 3, 3, 3.25, 3.5, 4, 5],
    [5, 7, 7, 6.6, 6.2, 5.8, 5.4, 5, 4.6, 4.2, 5, 5],
    [5, 4, 3.5, 3.5, 4, 5, 5, 4, 3.5, 3.5, 4, 5],
    [5, 4, 3.5, 3.5, 4, 5, 5, 5, 5, 4.7, 4.3, 5],
])


@dataclass(frozen=True)
class GeneratorSettings:
    """The generator's knobs; the defaults are the published ones except the two noise scales."""

    padding_low: int = 36
    padding_high: int = 60
    scale_coeff: float = 0.4
    max_translation: int = 48
    corr_noise_scale: float = 0.4
    iid_noise_scale: float = 0.05
    shear_scale: float = 0.75
    final_length: int = 40

    def shifted(self, noise: float = 1.5, shear: float = 2.0, scale: float = 1.5) -> GeneratorSettings:
        """A distribution shift: more noise, stronger shear and scaling (never seen in training)."""
        return replace(self, corr_noise_scale=self.corr_noise_scale * noise,
                       iid_noise_scale=self.iid_noise_scale * noise, shear_scale=self.shear_scale * shear,
                       scale_coeff=min(self.scale_coeff * scale, 1.8))


def templates() -> np.ndarray:
    """The ten digit templates (10 × 12), standardised per digit, starting at 0, divided by 6."""
    x = _DIGITS - _DIGITS.mean(axis=1, keepdims=True)
    x = x / x.std(axis=1, keepdims=True)
    x = x - x[:, :1]
    return x / 6.0


def _resample(signals: np.ndarray, lengths: np.ndarray, target: int) -> np.ndarray:
    """Linear interpolation of each row's first ``lengths[i]`` points onto ``target`` evenly spaced ones."""
    source = np.linspace(0.0, 1.0, target)[None, :] * (lengths[:, None] - 1)
    left = np.floor(source).astype(int)
    right = np.minimum(left + 1, lengths[:, None] - 1)
    fraction = source - left
    rows = np.arange(len(signals))[:, None]
    return signals[rows, left] * (1 - fraction) + signals[rows, right] * fraction


def generate(settings: GeneratorSettings, n_samples: int, seed: int,
             normalise: tuple[float, float] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """``n_samples`` signals (float32, n × final_length) and balanced labels, deterministic in ``seed``.

    ``normalise`` = (mean, std) to standardise with; None standardises with this set's own statistics.
    """
    rng = np.random.default_rng(seed)
    n_classes = len(_DIGITS)
    labels = rng.permutation(np.arange(n_samples) % n_classes)
    base = templates()[labels] + 1e-8
    template_len = base.shape[1]
    width = template_len + settings.padding_high
    padded = np.zeros((n_samples, width))
    padded[:, :template_len] = base
    pads = settings.padding_low + (rng.random(n_samples) * (settings.padding_high - settings.padding_low + 1)).astype(int)
    signal = _resample(padded, template_len + pads, width)
    signal *= 1 + settings.scale_coeff * (rng.random(n_samples)[:, None] - 0.5)
    shifts = rng.integers(0, settings.max_translation, n_samples)
    signal = signal[np.arange(n_samples)[:, None], (np.arange(width)[None, :] - shifts[:, None]) % width]
    corr = gaussian_filter1d(settings.corr_noise_scale * rng.standard_normal(signal.shape), 2.0, axis=1)
    signal = np.where(signal != 0, signal, corr)
    signal = signal + settings.iid_noise_scale * rng.standard_normal(signal.shape)
    coefficients = settings.shear_scale * (rng.random(n_samples) - 0.5)
    signal = signal - coefficients[:, None] * np.linspace(-0.5, 0.5, width)[None, :]
    signal = _resample(signal, np.full(n_samples, width), settings.final_length)
    mean, std = normalise if normalise is not None else (signal.mean(), signal.std())
    return ((signal - mean) / std).astype(np.float32), labels.astype(np.int64)


def array_hash(*arrays: np.ndarray) -> str:
    """A short sha256 of arrays' bytes, to record which frozen set a run saw."""
    digest = hashlib.sha256()
    for array in arrays:
        digest.update(np.ascontiguousarray(array).tobytes())
    return digest.hexdigest()[:12]


@dataclass(frozen=True)
class Splits:
    """Train, validation, clean test and shifted test sets (inputs n × 1 × L, labels n)."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    x_shift: np.ndarray
    y_shift: np.ndarray

    def hashes(self) -> dict[str, str]:
        return {name: array_hash(getattr(self, f"x_{name}"), getattr(self, f"y_{name}"))
                for name in ("train", "val", "test", "shift")}


def make_splits(settings: GeneratorSettings, n_train: int, n_val: int, n_test: int, n_shift: int,
                data_seed: int = 0) -> Splits:
    """Four independent draws (seeds derived from ``data_seed``), all standardised with the training stats."""
    raw_train, y_train = generate(settings, n_train, seed=10 * data_seed + 1, normalise=(0.0, 1.0))
    stats = (float(raw_train.mean()), float(raw_train.std()))
    x_train = ((raw_train - stats[0]) / stats[1]).astype(np.float32)
    x_val, y_val = generate(settings, n_val, seed=10 * data_seed + 2, normalise=stats)
    x_test, y_test = generate(settings, n_test, seed=10 * data_seed + 3, normalise=stats)
    x_shift, y_shift = generate(settings.shifted(), n_shift, seed=10 * data_seed + 4, normalise=stats)
    return Splits(x_train[:, None, :], y_train, x_val[:, None, :], y_val, x_test[:, None, :], y_test,
                  x_shift[:, None, :], y_shift)
