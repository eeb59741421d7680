"""The claims ledger: a paper's headline claims, the paper's numbers, ours, and computed verdicts.

A chapter states its claims before running anything. Each :class:`Claim` carries the paper's
value, a decision :class:`Rule` fixed in advance, the *control* that a method without the claimed
property scores in the same run, and the *evidence level* of our setting (``paper setting``,
``miniature`` or ``stand-in``). After the experiments the chapter passes per-replicate results to
:meth:`Ledger.evaluate`; the verdict is computed from the interval of our estimate, never typed in:

* ``reproduced``: the whole 95 % interval satisfies the rule, and every control's interval
  violates it (a control that would also pass makes the claim ``inconclusive``);
* ``not reproduced``: the whole interval violates the rule;
* ``inconclusive``: the interval straddles the rule's boundary, or a control is not excluded;
* ``not testable at this scale``: too few replicates, a failed guard (a method that learned
  nothing, a judge that failed its validity gate), no finite value, or a profile too small;
* ``not implemented``: no code computes the claim.

Things true by construction are :class:`Check` s, listed apart from the claims. The principles are
in the project's design notes ("Claims that could have failed").

>>> ledger = Ledger("demo", [
...     Claim("c1", "Accuracy beats the baseline.", paper="+0.10", source="Table 2",
...           metric="accuracy_gain", rule=AtLeast(0.05), evidence=MINIATURE,
...           controls=(Control("random_gain", "random predictions"),)),
... ])
>>> table = ledger.evaluate({"accuracy_gain": [0.11, 0.12, 0.13, 0.12],
...                          "random_gain": [0.00, -0.01, 0.01, 0.00]})
>>> table.loc[0, "verdict"]
'reproduced'
>>> table = ledger.evaluate({"accuracy_gain": [0.11, 0.12, 0.13, 0.12],
...                          "random_gain": [0.10, 0.12, 0.09, 0.11]})
>>> table.loc[0, "verdict"], table.loc[0, "note"]
('inconclusive', "control 'random predictions' also satisfies the rule (0.105 [0.0845, 0.126], n = 4)")
"""

from __future__ import annotations

import json
import math
import os
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

__all__ = [
    "REPRODUCED",
    "NOT_REPRODUCED",
    "INCONCLUSIVE",
    "NOT_TESTABLE",
    "NOT_IMPLEMENTED",
    "VERDICTS",
    "PASSED",
    "FAILED",
    "PAPER_SETTING",
    "MINIATURE",
    "STAND_IN",
    "EVIDENCE_LEVELS",
    "JUDGED_PROFILES",
    "LedgerError",
    "Estimate",
    "mean_interval",
    "bootstrap_interval",
    "paired_difference",
    "proportion",
    "exact",
    "as_estimate",
    "format_estimate",
    "Guard",
    "guard",
    "Rule",
    "AtLeast",
    "AtMost",
    "Between",
    "Within",
    "Differs",
    "Control",
    "Claim",
    "Check",
    "Ledger",
    "claims_dir",
    "read_ledger",
    "verdict_counts",
    "typed_result_prose",
]

REPRODUCED = "reproduced"
NOT_REPRODUCED = "not reproduced"
INCONCLUSIVE = "inconclusive"
NOT_TESTABLE = "not testable at this scale"
NOT_IMPLEMENTED = "not implemented"
VERDICTS = (REPRODUCED, NOT_REPRODUCED, INCONCLUSIVE, NOT_TESTABLE, NOT_IMPLEMENTED)

PASSED = "passed"
FAILED = "failed"

PAPER_SETTING = "paper setting"
MINIATURE = "miniature"
STAND_IN = "stand-in"
EVIDENCE_LEVELS = (PAPER_SETTING, MINIATURE, STAND_IN)

#: Profiles at which verdicts are meant to be read; a judged empirical claim needs replicates here.
JUDGED_PROFILES = ("book", "paper")

CONFIDENCE = 0.95


class LedgerError(ValueError):
    """A ledger was defined or fed wrongly (a missing metric, a claim without a control, …)."""


# --------------------------------------------------------------------------------------------
# Estimates: a number with n and an interval
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Estimate:
    """Our number for a claim: a point estimate, its 95 % interval, n and how the interval was made.

    ``method`` documents the interval: ``t`` (Student-t interval of a mean), ``bootstrap`` (BCa
    bootstrap of a mean), ``clopper-pearson`` (exact binomial), ``exact`` (a computed quantity
    with no sampling error), ``single`` (one replicate: no interval), or whatever a chapter
    computed itself (``given``, e.g. a cluster bootstrap).
    """

    value: float
    low: float
    high: float
    n: int
    method: str
    unit: str = "replicates"
    values: tuple[float, ...] = ()

    def __post_init__(self) -> None:
        if self.n < 0:
            raise LedgerError(f"an estimate needs n >= 0, got {self.n}")
        if all(math.isfinite(x) for x in (self.value, self.low, self.high)) and not (
            self.low - 1e-12 <= self.value <= self.high + 1e-12
        ):
            raise LedgerError(f"estimate {self.value} lies outside its interval [{self.low}, {self.high}]")

    @property
    def finite(self) -> bool:
        return math.isfinite(self.value)

    @property
    def is_exact(self) -> bool:
        return self.method == "exact"

    @classmethod
    def given(cls, value: float, low: float, high: float, n: int, method: str = "given",
              unit: str = "replicates", values: Iterable[float] = ()) -> Estimate:
        """An estimate whose interval the chapter computed itself (name the method)."""
        return cls(float(value), float(low), float(high), int(n), method, unit, tuple(map(float, values)))


def _clean(values: Iterable[Any]) -> np.ndarray:
    array = np.asarray([float(v) for v in values], dtype=float)
    return array


def mean_interval(values: Iterable[float], *, confidence: float = CONFIDENCE, unit: str = "replicates") -> Estimate:
    """The mean of per-replicate values with a Student-t interval (exact for normal replicates).

    With n < 2 there is no interval: the estimate spans (−∞, ∞) and can decide nothing.

    >>> e = mean_interval([1.0, 2.0, 3.0])
    >>> e.value, round(e.low, 3), round(e.high, 3), e.n
    (2.0, -0.484, 4.484, 3)
    """
    from scipy import stats

    array = _clean(values)
    n = array.size
    if n == 0 or not np.all(np.isfinite(array)):
        return Estimate(math.nan, math.nan, math.nan, int(n), "t", unit, tuple(array.tolist()))
    mean = float(array.mean())
    if n == 1:
        return Estimate(mean, -math.inf, math.inf, 1, "single", unit, tuple(array.tolist()))
    sem = float(array.std(ddof=1) / math.sqrt(n))
    half = float(stats.t.ppf(0.5 + confidence / 2, df=n - 1)) * sem
    return Estimate(mean, mean - half, mean + half, int(n), "t", unit, tuple(array.tolist()))


def bootstrap_interval(values: Iterable[float], *, statistic: Any = np.mean, confidence: float = CONFIDENCE,
                       n_resamples: int = 4999, seed: int = 0, unit: str = "replicates") -> Estimate:
    """A statistic of per-replicate values with a BCa bootstrap interval (percentile when BCa fails).

    Meant for n ≳ 10; with fewer replicates prefer :func:`mean_interval`.
    """
    from scipy import stats

    array = _clean(values)
    n = array.size
    if n == 0 or not np.all(np.isfinite(array)):
        return Estimate(math.nan, math.nan, math.nan, int(n), "bootstrap", unit, tuple(array.tolist()))
    point = float(statistic(array))
    if n == 1:
        return Estimate(point, -math.inf, math.inf, 1, "single", unit, tuple(array.tolist()))
    if np.all(array == array[0]):
        return Estimate(point, point, point, int(n), "bootstrap", unit, tuple(array.tolist()))
    rng = np.random.default_rng(seed)
    method = "BCa"
    with np.errstate(all="ignore"):
        try:
            result = stats.bootstrap((array,), statistic, confidence_level=confidence, n_resamples=n_resamples,
                                     method="BCa", random_state=rng)
            low, high = float(result.confidence_interval.low), float(result.confidence_interval.high)
        except Exception:  # noqa: BLE001 - degenerate jackknife: fall back to the percentile interval
            low = high = math.nan
        if not (math.isfinite(low) and math.isfinite(high)):
            method = "percentile"
            result = stats.bootstrap((array,), statistic, confidence_level=confidence, n_resamples=n_resamples,
                                     method="percentile", random_state=np.random.default_rng(seed))
            low, high = float(result.confidence_interval.low), float(result.confidence_interval.high)
    low, high = min(low, point), max(high, point)
    return Estimate(point, low, high, int(n), f"bootstrap ({method})", unit, tuple(array.tolist()))


def paired_difference(treatment: Iterable[float], control: Iterable[float], *, confidence: float = CONFIDENCE,
                      unit: str = "replicates") -> Estimate:
    """Mean of paired differences (treatment − control, e.g. the same seed) with a t interval.

    >>> paired_difference([0.9, 0.8, 0.85], [0.5, 0.45, 0.5]).value
    0.3666666666666667
    """
    first, second = _clean(treatment), _clean(control)
    if first.shape != second.shape:
        raise LedgerError(f"paired values need equal lengths, got {first.size} and {second.size}")
    return mean_interval(first - second, confidence=confidence, unit=unit)


def proportion(successes: int, trials: int, *, confidence: float = CONFIDENCE, unit: str = "trials") -> Estimate:
    """A share with its exact (Clopper–Pearson) interval, e.g. 73 of 95 random MDPs.

    >>> e = proportion(73, 95)
    >>> round(e.value, 3), round(e.low, 3), round(e.high, 3)
    (0.768, 0.671, 0.849)
    """
    from scipy import stats

    if trials <= 0 or not 0 <= successes <= trials:
        raise LedgerError(f"a proportion needs 0 <= successes <= trials and trials > 0, got {successes}/{trials}")
    interval = stats.binomtest(int(successes), int(trials)).proportion_ci(confidence_level=confidence,
                                                                          method="exact")
    return Estimate(successes / trials, float(interval.low), float(interval.high), int(trials),
                    "clopper-pearson", unit)


def exact(value: float, *, unit: str = "exact computation") -> Estimate:
    """A computed quantity with no sampling error (a theorem checked by exact arithmetic or an LP)."""
    value = float(value)
    return Estimate(value, value, value, 1, "exact", unit)


def as_estimate(raw: Any) -> Estimate | None:
    """An :class:`Estimate` from what a chapter passes: an Estimate, per-replicate values, or one number.

    ``None`` means the metric was not measured; a lone number is one replicate (no interval).
    """
    if raw is None:
        return None
    if isinstance(raw, Estimate):
        return raw
    if isinstance(raw, (pd.Series, np.ndarray, list, tuple)):
        return mean_interval(list(raw))
    if isinstance(raw, bool):
        return Estimate(float(raw), -math.inf, math.inf, 1, "single")
    try:
        value = float(raw)
    except (TypeError, ValueError) as error:
        raise LedgerError(f"cannot read {raw!r} as a number, values or an Estimate") from error
    if not math.isfinite(value):
        return Estimate(math.nan, math.nan, math.nan, 1, "single")
    return Estimate(value, -math.inf, math.inf, 1, "single")


def format_estimate(estimate: Estimate | None, digits: int = 3) -> str:
    """``0.84 [0.80, 0.88], n = 5`` (or ``—`` when there is no value).

    >>> format_estimate(mean_interval([0.8, 0.84, 0.88]))
    '0.84 [0.741, 0.939], n = 3'
    """
    if estimate is None or not estimate.finite:
        return "—"
    value = f"{estimate.value:.{digits}g}"
    if estimate.method == "exact":
        return f"{value} (exact)"
    if estimate.method == "single" or not (math.isfinite(estimate.low) and math.isfinite(estimate.high)):
        return f"{value}, n = {estimate.n} (no interval)"
    return f"{value} [{estimate.low:.{digits}g}, {estimate.high:.{digits}g}], n = {estimate.n}"


# --------------------------------------------------------------------------------------------
# Guards: preconditions for judging a comparison at all
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Guard:
    """Whether a precondition for judging holds, and why not (shown in the ledger's note)."""

    passed: bool
    reason: str = ""


def guard(passed: bool, reason: str = "") -> Guard:
    """``guard(all_learned, "FT learned nothing on task 2")``: a failed guard makes a claim untestable."""
    return Guard(bool(passed), reason)


# --------------------------------------------------------------------------------------------
# Rules
# --------------------------------------------------------------------------------------------


class Rule:
    """A decision rule over an interval: inside the region, outside it, or straddling its edge."""

    def region(self) -> tuple[float, float]:  # pragma: no cover - interface
        raise NotImplementedError

    def describe(self) -> str:  # pragma: no cover - interface
        raise NotImplementedError

    def holds(self, value: float) -> bool:
        low, high = self.region()
        return low <= value <= high

    def judge(self, low: float, high: float) -> str:
        """``reproduced`` if [low, high] lies in the region, ``not reproduced`` if it misses it."""
        if any(math.isnan(x) for x in (low, high)):
            raise LedgerError("cannot judge an interval with NaN ends")
        region_low, region_high = self.region()
        if region_low <= low and high <= region_high:
            return REPRODUCED
        if high < region_low or low > region_high:
            return NOT_REPRODUCED
        return INCONCLUSIVE


@dataclass(frozen=True)
class AtLeast(Rule):
    threshold: float

    def region(self) -> tuple[float, float]:
        return self.threshold, math.inf

    def describe(self) -> str:
        return f"≥ {self.threshold:g}"


@dataclass(frozen=True)
class AtMost(Rule):
    threshold: float

    def region(self) -> tuple[float, float]:
        return -math.inf, self.threshold

    def describe(self) -> str:
        return f"≤ {self.threshold:g}"


@dataclass(frozen=True)
class Between(Rule):
    low: float
    high: float

    def __post_init__(self) -> None:
        if not self.low <= self.high:
            raise ValueError(f"Between needs low <= high, got {self.low} > {self.high}")

    def region(self) -> tuple[float, float]:
        return self.low, self.high

    def describe(self) -> str:
        return f"in [{self.low:g}, {self.high:g}]"


@dataclass(frozen=True)
class Within(Rule):
    """|ours − target| ≤ tolerance: for claims that state a number rather than a direction."""

    target: float
    tolerance: float

    def __post_init__(self) -> None:
        if self.tolerance < 0:
            raise ValueError(f"Within needs a tolerance >= 0, got {self.tolerance}")

    def region(self) -> tuple[float, float]:
        return self.target - self.tolerance, self.target + self.tolerance

    def describe(self) -> str:
        return f"{self.target:g} ± {self.tolerance:g}"


@dataclass(frozen=True)
class Differs(Rule):
    """|x| > margin: a two-sided rule for claims that two quantities differ, in either direction.

    ``reproduced`` when the whole interval lies beyond ±margin on one side, ``not reproduced`` when it lies
    inside [−margin, margin], ``inconclusive`` otherwise (it straddles ±margin, or spans the whole band).

    >>> rule = Differs(0.02)
    >>> rule.judge(0.03, 0.05), rule.judge(-0.05, -0.03), rule.judge(-0.01, 0.015), rule.judge(0.01, 0.04)
    ('reproduced', 'reproduced', 'not reproduced', 'inconclusive')
    """

    margin: float

    def __post_init__(self) -> None:
        if not (isinstance(self.margin, (int, float)) and math.isfinite(self.margin) and self.margin >= 0):
            raise ValueError(f"Differs needs a finite margin >= 0, got {self.margin!r}")

    def region(self) -> tuple[float, float]:
        """The excluded band; ``holds`` and ``judge`` use its complement."""
        return -self.margin, self.margin

    def describe(self) -> str:
        return f"|·| > {self.margin:g}"

    def holds(self, value: float) -> bool:
        return abs(value) > self.margin

    def judge(self, low: float, high: float) -> str:
        if any(math.isnan(x) for x in (low, high)):
            raise LedgerError("cannot judge an interval with NaN ends")
        if low > self.margin or high < -self.margin:
            return REPRODUCED
        if -self.margin <= low and high <= self.margin:
            return NOT_REPRODUCED
        return INCONCLUSIVE


# --------------------------------------------------------------------------------------------
# Claims and checks
# --------------------------------------------------------------------------------------------

_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_\-]*$")


@dataclass(frozen=True)
class Control:
    """What a method *without* the claimed property scores on the claim's metric, in the same run."""

    metric: str
    label: str


@dataclass(frozen=True)
class Claim:
    """One headline claim of a paper and how our run decides it.

    ``metric`` names the entry of the results mapping (per-replicate values or an
    :class:`Estimate`) that the rule is applied to; each :class:`Control` names another entry
    measured in the same run. ``evidence`` says where we measured it (``paper setting``,
    ``miniature``, ``stand-in``). ``exact=True`` declares exact mathematics: one computed value,
    no replicates and no control. ``guards`` name :class:`Guard` entries of the results that must
    pass before the claim is judged. ``testable_in`` lists the profiles at which our run is large
    enough to judge it (elsewhere the verdict is ``not testable at this scale`` with
    ``why_untestable``). ``implemented=False`` marks a claim that no code computes.
    """

    id: str
    statement: str
    paper: str
    source: str
    metric: str
    rule: Rule
    evidence: str
    controls: tuple[Control, ...] = ()
    exact: bool = False
    guards: tuple[str, ...] = ()
    testable_in: tuple[str, ...] = ("smoke", "book", "paper")
    why_untestable: str = ""
    implemented: bool = True
    why_not_implemented: str = ""
    min_replicates: int = 3
    notes: str = ""

    def __post_init__(self) -> None:
        if not self.id or not _ID.match(self.id):
            raise LedgerError(f"claim id must be a short alphanumeric name, got {self.id!r}")
        if not isinstance(self.rule, Rule):
            raise TypeError(f"claim {self.id!r}: rule must be a Rule, got {type(self.rule).__name__}")
        if self.evidence not in EVIDENCE_LEVELS:
            raise LedgerError(f"claim {self.id!r}: evidence must be one of {', '.join(map(repr, EVIDENCE_LEVELS))}; "
                              f"got {self.evidence!r}")
        if isinstance(self.controls, Control) or not all(isinstance(c, Control) for c in self.controls):
            raise TypeError(f"claim {self.id!r}: controls must be a tuple of Control")
        if isinstance(self.guards, str) or isinstance(self.testable_in, str):
            raise TypeError(f"claim {self.id!r}: guards and testable_in are tuples of names, not one string")
        if not self.implemented:
            if not self.why_not_implemented:
                raise LedgerError(f"claim {self.id!r}: say why it is not implemented (why_not_implemented)")
            return
        if not self.exact and not self.controls:
            raise LedgerError(
                f"claim {self.id!r}: an empirical claim needs at least one Control (what a method without the "
                "claimed property scores in the same run); exact mathematics declares exact=True")
        if self.min_replicates < 1:
            raise LedgerError(f"claim {self.id!r}: min_replicates must be >= 1, got {self.min_replicates}")


@dataclass(frozen=True)
class Check:
    """Something true by construction or a property of a published table: tested, listed apart.

    ``metric`` names an entry of the results: a bool (passed or not) or a number judged by ``rule``.
    """

    id: str
    statement: str
    metric: str
    rule: Rule | None = None

    def __post_init__(self) -> None:
        if not self.id or not _ID.match(self.id):
            raise LedgerError(f"check id must be a short alphanumeric name, got {self.id!r}")


def _number(value: float) -> float | None:
    return None if value is None or not math.isfinite(value) else float(value)


@dataclass
class Ledger:
    """The claims and checks of one chapter; evaluates them and writes ``<slug>.claims.json``."""

    slug: str
    claims: Sequence[Claim]
    profile: str = "book"
    checks: Sequence[Check] = ()
    #: claims quoted in the chapter's summary box (default: the first two judged at strong evidence)
    headline: Sequence[str] | None = None
    table: pd.DataFrame | None = field(default=None, init=False, repr=False)
    checks_table: pd.DataFrame | None = field(default=None, init=False, repr=False)
    estimates: dict[str, Estimate | None] = field(default_factory=dict, init=False, repr=False)
    control_estimates: dict[str, Estimate | None] = field(default_factory=dict, init=False, repr=False)

    def __post_init__(self) -> None:
        unknown = [claim_id for claim_id in (self.headline or ()) if claim_id not in {c.id for c in self.claims}]
        if unknown:
            raise LedgerError(f"ledger {self.slug!r}: headline names unknown claims {unknown}")
        ids = [item.id for item in [*self.claims, *self.checks]]
        duplicated = sorted({item_id for item_id in ids if ids.count(item_id) > 1})
        if duplicated:
            raise LedgerError(f"ledger {self.slug!r} has duplicate claim or check ids: {duplicated}")

    def required_metrics(self) -> list[str]:
        """The result entries this ledger reads at its profile (metrics, controls, guards, checks)."""
        names: list[str] = []
        for claim in self.claims:
            if not claim.implemented or self.profile not in claim.testable_in:
                continue
            names += [claim.metric, *(control.metric for control in claim.controls), *claim.guards]
        names += [check.metric for check in self.checks]
        return list(dict.fromkeys(names))

    def evaluate(self, results: Mapping[str, Any], notes: Mapping[str, str] | None = None) -> pd.DataFrame:
        """Judge every claim (and check) on ``results``; return and keep the ledger table.

        A claim judged at this profile whose metric, control or guard is missing from ``results``
        is a defect of the chapter and raises :class:`LedgerError` (a ledger row must not read
        "testable" unless code computes it).

        ``notes`` maps claim ids to what this run learned about them (a budget cut, dropped items,
        an excluded detector); each is appended to that claim's note whatever its verdict.
        """
        notes = dict(notes or {})
        unknown = sorted(set(notes) - {claim.id for claim in self.claims})
        if unknown:
            raise LedgerError(f"ledger {self.slug!r}: notes name unknown claims {unknown}")
        missing = [name for name in self.required_metrics() if name not in results]
        if missing:
            raise LedgerError(f"ledger {self.slug!r} at profile {self.profile!r}: results lack {missing}")
        self.estimates, self.control_estimates = {}, {}
        rows = []
        for claim in self.claims:
            row = self._judge(claim, results)
            if notes.get(claim.id):
                row["note"] = "; ".join(part for part in (row["note"], notes[claim.id]) if part)
            rows.append(row)
        self.table = pd.DataFrame(rows, columns=_COLUMNS)
        self.checks_table = pd.DataFrame([self._check(check, results) for check in self.checks],
                                         columns=["check", "statement", "value", "rule", "status"])
        return self.table

    def _judge(self, claim: Claim, results: Mapping[str, Any]) -> dict[str, Any]:
        row: dict[str, Any] = {
            "claim": claim.id, "statement": claim.statement, "evidence": claim.evidence,
            "exact": claim.exact, "paper": claim.paper, "source": claim.source, "metric": claim.metric,
            "rule": claim.rule.describe(), "ours": None, "low": None, "high": None, "n": None,
            "interval": "", "unit": "", "control": "; ".join(c.label for c in claim.controls),
            "control_value": None, "control_low": None, "control_high": None, "control_verdict": "",
            "verdict": NOT_TESTABLE, "note": "",
        }
        notes: list[str] = []
        if not claim.implemented:
            row.update(verdict=NOT_IMPLEMENTED, note=claim.why_not_implemented)
            return row
        if self.profile not in claim.testable_in:
            row["note"] = claim.why_untestable or f"judged only at the {'/'.join(claim.testable_in)} profile"
            return row
        estimate = as_estimate(results[claim.metric])
        self.estimates[claim.id] = estimate
        if estimate is not None and estimate.finite:
            row.update(ours=estimate.value, low=_number(estimate.low), high=_number(estimate.high), n=estimate.n,
                       interval=estimate.method, unit=estimate.unit)
        failed = [(name, results[name]) for name in claim.guards if not _guard_passed(results[name])]
        if failed:
            reasons = "; ".join(f"guard {name!r} failed" + (f": {_guard_reason(value)}" if _guard_reason(value) else "")
                                for name, value in failed)
            row["note"] = reasons
            return row
        if estimate is None or not estimate.finite:
            row["note"] = claim.why_untestable or f"no finite value for {claim.metric!r} at this scale"
            return row
        if claim.exact:
            verdict = claim.rule.judge(estimate.value, estimate.value)
        else:
            if self.profile in JUDGED_PROFILES and estimate.n < claim.min_replicates:
                row["note"] = (f"{estimate.n} {estimate.unit}, fewer than the {claim.min_replicates} a verdict needs"
                               + (f"; {claim.why_untestable}" if claim.why_untestable else ""))
                return row
            verdict = claim.rule.judge(estimate.low, estimate.high)
        control_verdicts = []
        for index, control in enumerate(claim.controls):
            control_estimate = as_estimate(results[control.metric])
            if control_estimate is None or not control_estimate.finite:
                control_verdicts.append(None)
                notes.append(f"control {control.label!r} was not measured")
                continue
            control_verdict = claim.rule.judge(control_estimate.low, control_estimate.high)
            control_verdicts.append(control_verdict)
            if index == 0:
                self.control_estimates[claim.id] = control_estimate
                row.update(control_value=control_estimate.value, control_low=_number(control_estimate.low),
                           control_high=_number(control_estimate.high), control_verdict=control_verdict)
            if control_verdict == REPRODUCED:
                notes.append(f"control {control.label!r} also satisfies the rule ({format_estimate(control_estimate)})")
            elif control_verdict == INCONCLUSIVE and verdict == REPRODUCED:
                notes.append(f"control {control.label!r} is not excluded by the rule "
                             f"({format_estimate(control_estimate)})")
        if verdict == REPRODUCED and any(v != NOT_REPRODUCED for v in control_verdicts):
            verdict = INCONCLUSIVE
        if verdict == INCONCLUSIVE and not notes:
            notes.append(f"the interval straddles the rule's boundary ({claim.rule.describe()})")
        if claim.notes:
            notes.append(claim.notes)
        row.update(verdict=verdict, note="; ".join(notes))
        return row

    def _check(self, check: Check, results: Mapping[str, Any]) -> dict[str, Any]:
        raw = results[check.metric]
        if check.rule is None:
            if not isinstance(raw, (bool, np.bool_)):
                raise LedgerError(f"check {check.id!r}: {check.metric!r} must be a bool when the check has no rule")
            return {"check": check.id, "statement": check.statement, "value": bool(raw), "rule": "true",
                    "status": PASSED if raw else FAILED}
        estimate = as_estimate(raw)
        passed = estimate is not None and estimate.finite and check.rule.holds(estimate.value)
        return {"check": check.id, "statement": check.statement,
                "value": None if estimate is None else _number(estimate.value),
                "rule": check.rule.describe(), "status": PASSED if passed else FAILED}

    # ---------------------------------------------------------------- reporting

    def _require_table(self) -> pd.DataFrame:
        if self.table is None:
            raise RuntimeError("evaluate the ledger before reporting it")
        return self.table

    def counts(self) -> dict[str, int]:
        """How many claims got each verdict."""
        return verdict_counts(self._require_table().to_dict(orient="records"))

    def summary(self) -> str:
        """One generated paragraph: verdict counts by evidence level, controls and replicates.

        Use it as the chapter's results sentence; every number in it comes from the table.
        """
        return _summary_sentence(self._require_table().to_dict(orient="records"), self.profile)

    def sentence(self, claim_id: str) -> str:
        """A generated sentence reporting one claim: our estimate, the control's and the verdict."""
        table = self._require_table()
        matches = table[table["claim"] == claim_id]
        if matches.empty:
            raise LedgerError(f"ledger {self.slug!r} has no claim {claim_id!r}")
        row = matches.iloc[0].to_dict()
        claim = next(c for c in self.claims if c.id == claim_id)
        estimate = self.estimates.get(claim_id)
        text = f"**{claim_id}** ({row['evidence']}): "
        if row["verdict"] == NOT_IMPLEMENTED:
            return text + f"not implemented ({row['note']})."
        text += f"ours {format_estimate(estimate)}"
        if estimate is not None and estimate.finite and not estimate.is_exact:
            text += f" {estimate.unit}"
        text += f", rule {row['rule']}"
        control_estimate = self.control_estimates.get(claim_id)
        if claim.controls and control_estimate is not None:
            text += f"; control ({claim.controls[0].label}) {format_estimate(control_estimate)}"
        text += f": **{row['verdict']}**"
        if row["note"]:
            text += f" ({row['note']})"
        return text + "."

    def write(self, directory: str | os.PathLike[str] | None = None) -> Path:
        """Write the evaluated ledger to ``<directory>/<slug>.claims.json`` (atomically).

        In a notebook it also glues the chapter's summary box (``{glue:md}`` key ``chapter-summary``).
        """
        table = self._require_table()
        target_dir = Path(directory) if directory is not None else claims_dir()
        target_dir.mkdir(parents=True, exist_ok=True)
        target = target_dir / f"{self.slug}.claims.json"
        payload = {
            "slug": self.slug,
            "profile": self.profile,
            "claims": [_json_row(row) for row in table.to_dict(orient="records")],
            "checks": [_json_row(row) for row in (self.checks_table.to_dict(orient="records")
                                                 if self.checks_table is not None else [])],
            "counts": self.counts(),
            "summary": self.summary(),
        }
        partial = target.with_suffix(".json.part")
        partial.write_text(json.dumps(payload, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        os.replace(partial, target)
        from reprobook import downloads

        downloads.save_json(payload, "claims", self.slug if downloads.current_chapter() else None)
        downloads.save_frame(table, "claims", self.slug if downloads.current_chapter() else None)
        from reprobook.summary import glue_summary

        glue_summary(self, headline=self.headline)  # the box at the top of the page; a no-op outside a kernel
        return target

    def display_table(self) -> pd.io.formats.style.Styler:
        """The ledger as a styled table: verdict, evidence, ours with interval and n, control, rule, paper."""
        table = self._require_table()
        ours = [format_estimate(self.estimates.get(claim_id)) if verdict != NOT_IMPLEMENTED else "—"
                for claim_id, verdict in zip(table["claim"], table["verdict"], strict=True)]
        controls = []
        for claim in self.claims:
            if not claim.controls:
                controls.append("exact" if claim.exact else "—")
                continue
            controls.append(f"{claim.controls[0].label}: {format_estimate(self.control_estimates.get(claim.id))}")
        shown = pd.DataFrame({
            "claim": table["claim"],
            "verdict": table["verdict"],
            "evidence": table["evidence"],
            "ours [95 % interval], n": ours,
            "rule": table["rule"],
            "control (same rule)": controls,
            "paper": table["paper"] + " (" + table["source"] + ")",
            "statement": table["statement"],
            "note": table["note"],
        })
        return (
            shown.style.hide(axis="index")
            .map(lambda verdict: f"background-color: {VERDICT_COLOURS.get(verdict, '')}; white-space: nowrap",
                 subset=["verdict"])
            .map(lambda _: "white-space: nowrap", subset=["claim", "rule", "evidence"])
            .map(lambda _: "min-width: 16em", subset=["statement"])
        )

    def display_checks(self) -> pd.io.formats.style.Styler | pd.DataFrame:
        """The checks (true by construction, or properties of published tables) as a table."""
        self._require_table()
        table = self.checks_table if self.checks_table is not None else pd.DataFrame()
        if table.empty:
            return table
        return (table.style.hide(axis="index")
                .map(lambda status: f"background-color: {'#d8f0d8' if status == PASSED else '#f6d5d5'}",
                     subset=["status"]))


VERDICT_COLOURS = {REPRODUCED: "#d8f0d8", NOT_REPRODUCED: "#f6d5d5", INCONCLUSIVE: "#fbeccb",
                   NOT_TESTABLE: "#ececec", NOT_IMPLEMENTED: "#e4e4f4"}

_COLUMNS = ["claim", "statement", "evidence", "exact", "paper", "source", "metric", "rule", "ours", "low", "high",
            "n", "interval", "unit", "control", "control_value", "control_low", "control_high", "control_verdict",
            "verdict", "note"]


def _guard_passed(value: Any) -> bool:
    if isinstance(value, Guard):
        return value.passed
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    raise LedgerError(f"a guard must be a Guard or a bool, got {value!r}")


def _guard_reason(value: Any) -> str:
    return value.reason if isinstance(value, Guard) else ""


def _json_row(row: Mapping[str, Any]) -> dict[str, Any]:
    clean: dict[str, Any] = {}
    for key, value in row.items():
        if isinstance(value, (np.floating, float)):
            value = None if not math.isfinite(float(value)) else float(value)
        elif isinstance(value, np.integer):
            value = int(value)
        elif isinstance(value, np.bool_):
            value = bool(value)
        elif value is not None and not isinstance(value, (str, bool, int)) and pd.isna(value):
            value = None
        clean[key] = value
    return clean


def verdict_counts(rows: Iterable[Mapping[str, Any]]) -> dict[str, int]:
    """Verdict → number of claims (every verdict listed, zeros included)."""
    counts = dict.fromkeys(VERDICTS, 0)
    for row in rows:
        counts[row["verdict"]] += 1
    return counts


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" + ("" if count == 1 else "s")


def _summary_sentence(rows: list[Mapping[str, Any]], profile: str) -> str:
    if not rows:
        return "This ledger has no claims."
    parts = []
    for level in EVIDENCE_LEVELS:
        level_rows = [row for row in rows if row["evidence"] == level]
        if not level_rows:
            continue
        counts = verdict_counts(level_rows)
        listed = ", ".join(f"{count} {verdict}" for verdict, count in counts.items() if count)
        parts.append(f"{_plural(len(level_rows), 'claim')} at {level} evidence ({listed})")
    judged = [row for row in rows if row["verdict"] in (REPRODUCED, NOT_REPRODUCED, INCONCLUSIVE)]
    with_control = sum(1 for row in rows if row.get("control"))
    replicate_counts = [int(row["n"]) for row in judged if row.get("n") and not row.get("exact")]
    sentence = f"At the {profile} profile this ledger holds " + "; ".join(parts) + "."
    sentence += f" {with_control} of {len(rows)} claims name a control measured in the same run"
    if replicate_counts:
        low, high = min(replicate_counts), max(replicate_counts)
        spread = f"{low}" if low == high else f"{low}–{high}"
        sentence += f"; judged empirical claims rest on {spread} replicates"
    return sentence + "."


def claims_dir() -> Path:
    """Where ledgers are written: ``REPROBOOK_CLAIMS_DIR``, else ``book/chapters`` of the project."""
    configured = os.environ.get("REPROBOOK_CLAIMS_DIR")
    if configured:
        return Path(configured)
    from reprobook.project import project_root

    return project_root() / "book" / "chapters"


def read_ledger(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Read a ``<slug>.claims.json`` file written by :meth:`Ledger.write`."""
    payload = json.loads(Path(path).read_text(encoding="utf-8"))
    for row in payload.get("claims", []):
        if row.get("verdict") not in VERDICTS:
            raise ValueError(f"{path}: claim {row.get('claim')!r} has an unknown verdict {row.get('verdict')!r}")
        if row.get("evidence") not in EVIDENCE_LEVELS:
            raise ValueError(f"{path}: claim {row.get('claim')!r} has no evidence level (an old ledger format?)")
    return payload


# --------------------------------------------------------------------------------------------
# Typed prose: no result may be typed ahead of the results
# --------------------------------------------------------------------------------------------

_VERDICT_WORDS = re.compile(r"\b(reproduced|inconclusive|confirm(?:s|ed)|refut(?:es|ed))\b", re.IGNORECASE)
# a percentage (not "95 % interval"), a ratio "2.5×" (not a size "160 × 120") or a decimal
_MEASURED = re.compile(r"(?<![\w.])(\d+(?:\.\d+)?\s?%(?!\s*(?:confidence|interval|CI\b))|\d+(?:\.\d+)?\s?×(?!\s?\d)|"
                       r"\d+\.\d+)")
_REFERENCE_BEFORE = re.compile(r"(section|sec\.|§|table|tab\.|eq\.|equation|figure|fig\.|appendix|app\.|version|"
                               r"v|python|arxiv|algorithm|alg\.|line|lines|theorem|lemma|definition|chapter|"
                               r"[=<>≤≥±])\s*$", re.IGNORECASE)
_SPANS = re.compile(r"(`[^`]*`|\$\$.*?\$\$|\$[^$]*\$|\{[a-z]+\}`[^`]*`|\[[^\]]*\]\([^)]*\)|<[^>]+>)", re.DOTALL)


def _strip_spans(text: str) -> str:
    text = re.sub(r"```.*?```", " ", text, flags=re.DOTALL)
    return _SPANS.sub(" ", text)


def typed_result_prose(source: str | os.PathLike[str]) -> list[str]:
    """Problems with typed prose in a MyST notebook: results or verdicts written by hand.

    Markdown after the first experiment (the first code cell after the one that defines the
    ``Ledger``) may describe the method and the question, but may not state a verdict word
    (reproduced, inconclusive, confirms, refuted) or a measured-looking number (a decimal, a
    percentage, a ratio "×") outside code spans, maths and links. Generated text (a code cell
    that displays Markdown) is not typed, so it is not inspected. Returns a list of problems.
    """
    import jupytext

    notebook = jupytext.read(Path(source))
    cells = notebook.cells
    ledger_index = next((i for i, cell in enumerate(cells)
                         if cell.cell_type == "code" and re.search(r"\bLedger\(|\bledger\s*=", cell.source)), None)
    if ledger_index is None:
        return [f"{Path(source).name}: no cell defines the claims ledger"]
    first_experiment = next((i for i in range(ledger_index + 1, len(cells)) if cells[i].cell_type == "code"),
                            len(cells))
    problems = []
    for index in range(first_experiment + 1, len(cells)):
        cell = cells[index]
        if cell.cell_type != "markdown":
            continue
        for line_number, line in enumerate(_strip_spans(cell.source).splitlines(), start=1):
            if line.lstrip().startswith("#"):
                continue
            for match in _VERDICT_WORDS.finditer(line):
                problems.append(f"{Path(source).name} cell {index} line {line_number}: typed verdict word "
                                f"{match.group(0)!r}: {line.strip()[:100]}")
            for match in _MEASURED.finditer(line):
                if _REFERENCE_BEFORE.search(line[: match.start()]):
                    continue
                problems.append(f"{Path(source).name} cell {index} line {line_number}: typed number "
                                f"{match.group(0)!r} (generate result prose from the results): {line.strip()[:100]}")
    return problems
