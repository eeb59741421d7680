"""The claims ledger: a paper's headline claims, the paper's numbers, ours, and computed verdicts.

A chapter states its claims before running anything: each :class:`Claim` carries the paper's value
and a decision :class:`Rule` fixed in advance. After the experiments the chapter passes its measured
numbers to :meth:`Ledger.evaluate`; the verdict is always computed by the rule, never typed in.

>>> ledger = Ledger("demo", [
...     Claim("c1", "Accuracy beats the baseline.", paper="+0.10", source="Table 2",
...           metric="accuracy_gain", rule=AtLeast(0.05)),
... ])
>>> ledger.evaluate({"accuracy_gain": 0.12}).loc[0, "verdict"]
'reproduced'
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

__all__ = [
    "REPRODUCED",
    "NOT_REPRODUCED",
    "NOT_TESTABLE",
    "VERDICTS",
    "Rule",
    "AtLeast",
    "AtMost",
    "Between",
    "Within",
    "Claim",
    "Ledger",
    "claims_dir",
    "read_ledger",
]

REPRODUCED = "reproduced"
NOT_REPRODUCED = "not reproduced"
NOT_TESTABLE = "not testable at this scale"
VERDICTS = (REPRODUCED, NOT_REPRODUCED, NOT_TESTABLE)


class Rule:
    """A decision rule: does a measured number support the claim?"""

    def holds(self, value: float) -> bool:  # pragma: no cover - interface
        raise NotImplementedError

    def describe(self) -> str:  # pragma: no cover - interface
        raise NotImplementedError


@dataclass(frozen=True)
class AtLeast(Rule):
    threshold: float

    def holds(self, value: float) -> bool:
        return value >= self.threshold

    def describe(self) -> str:
        return f"≥ {self.threshold:g}"


@dataclass(frozen=True)
class AtMost(Rule):
    threshold: float

    def holds(self, value: float) -> bool:
        return value <= self.threshold

    def describe(self) -> str:
        return f"≤ {self.threshold:g}"


@dataclass(frozen=True)
class Between(Rule):
    low: float
    high: float

    def __post_init__(self) -> None:
        if not self.low <= self.high:
            raise ValueError(f"Between needs low <= high, got {self.low} > {self.high}")

    def holds(self, value: float) -> bool:
        return self.low <= value <= self.high

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

    def holds(self, value: float) -> bool:
        return abs(value - self.target) <= self.tolerance

    def describe(self) -> str:
        return f"{self.target:g} ± {self.tolerance:g}"


@dataclass(frozen=True)
class Claim:
    """One headline claim of a paper and how our run decides it.

    ``metric`` names the number in the results mapping that the rule is applied to.
    ``testable_in`` lists the profiles at which our run is large enough to judge the claim; at
    other profiles (and whenever the metric is missing or not finite) the verdict is
    "not testable at this scale". ``why_untestable`` explains that case in the ledger.
    """

    id: str
    statement: str
    paper: str
    source: str
    metric: str
    rule: Rule
    testable_in: tuple[str, ...] = ("smoke", "book", "paper")
    why_untestable: str = ""
    notes: str = ""

    def __post_init__(self) -> None:
        if not self.id or not self.id.replace("_", "").replace("-", "").isalnum():
            raise ValueError(f"claim id must be a short alphanumeric name, got {self.id!r}")
        if not isinstance(self.rule, Rule):
            raise TypeError(f"claim {self.id!r}: rule must be a Rule, got {type(self.rule).__name__}")


@dataclass
class Ledger:
    """The claims of one chapter; evaluates them on results and writes ``<slug>.claims.json``."""

    slug: str
    claims: Sequence[Claim]
    profile: str = "book"
    table: pd.DataFrame | None = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        ids = [claim.id for claim in self.claims]
        duplicated = sorted({claim_id for claim_id in ids if ids.count(claim_id) > 1})
        if duplicated:
            raise ValueError(f"ledger {self.slug!r} has duplicate claim ids: {duplicated}")

    def evaluate(self, results: Mapping[str, Any]) -> pd.DataFrame:
        """Apply every claim's rule to ``results[claim.metric]``; return and keep the ledger table."""
        rows = []
        for claim in self.claims:
            raw = results.get(claim.metric)
            value = _as_number(raw)
            if self.profile not in claim.testable_in:
                verdict = NOT_TESTABLE
                reason = claim.why_untestable or f"judged only at the {'/'.join(claim.testable_in)} profile"
            elif value is None:
                verdict = NOT_TESTABLE
                reason = claim.why_untestable or f"no finite value for {claim.metric!r} at this scale"
            else:
                verdict = REPRODUCED if claim.rule.holds(value) else NOT_REPRODUCED
                reason = ""
            rows.append({
                "claim": claim.id,
                "statement": claim.statement,
                "paper": claim.paper,
                "source": claim.source,
                "metric": claim.metric,
                "ours": value,
                "rule": claim.rule.describe(),
                "verdict": verdict,
                "note": reason or claim.notes,
            })
        self.table = pd.DataFrame(rows)
        return self.table

    def write(self, directory: str | os.PathLike[str] | None = None) -> Path:
        """Write the evaluated ledger to ``<directory>/<slug>.claims.json`` (atomically)."""
        if self.table is None:
            raise RuntimeError("evaluate the ledger before writing it")
        target_dir = Path(directory) if directory is not None else claims_dir()
        target_dir.mkdir(parents=True, exist_ok=True)
        target = target_dir / f"{self.slug}.claims.json"
        payload = {
            "slug": self.slug,
            "profile": self.profile,
            "claims": [
                {key: (None if isinstance(value, float) and math.isnan(value) else value)
                 for key, value in row.items()}
                for row in self.table.to_dict(orient="records")
            ],
        }
        partial = target.with_suffix(".json.part")
        partial.write_text(json.dumps(payload, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        os.replace(partial, target)
        return target

    def display_table(self) -> pd.io.formats.style.Styler:
        """The ledger as a styled table for the chapter (verdicts coloured, sources beside numbers)."""
        if self.table is None:
            raise RuntimeError("evaluate the ledger before displaying it")
        # the verdict first: on a narrow page the long statement column scrolls, the verdict does not
        shown = pd.DataFrame({
            "claim": self.table["claim"],
            "verdict": self.table["verdict"],
            "ours": self.table["ours"],
            "rule": self.table["rule"],
            "paper": self.table["paper"] + " (" + self.table["source"] + ")",
            "statement": self.table["statement"],
        })
        if self.table["note"].astype(bool).any():
            shown["note"] = self.table["note"]
        colours = {REPRODUCED: "#d8f0d8", NOT_REPRODUCED: "#f6d5d5", NOT_TESTABLE: "#ececec"}
        return (
            shown.style.hide(axis="index")
            .format({"ours": lambda v: "—" if v is None or pd.isna(v) else f"{v:.3g}"})
            .map(lambda verdict: f"background-color: {colours.get(verdict, '')}; white-space: nowrap",
                 subset=["verdict"])
            .map(lambda _: "white-space: nowrap", subset=["claim", "ours", "rule"])
            .map(lambda _: "min-width: 16em", subset=["statement"])
        )


def _as_number(raw: Any) -> float | None:
    if raw is None or isinstance(raw, bool):
        return None if raw is None else float(raw)
    try:
        value = float(raw)
    except (TypeError, ValueError):
        return None
    return value if math.isfinite(value) else None


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
    return payload
