"""The SafeTutors taxonomy (11 harm dimensions, 48 sub-risks) loaded from ``taxonomy.yaml``.

The YAML is validated against a pydantic schema when it is read; labels from outside data (the
paper's sample, a user's copy of the gated data) are matched after :func:`normalise_label`, which
undoes the sample's quirks (a trailing blank line, a Cyrillic "С" in "Cognitive Load Mismatch").

>>> taxonomy = load_taxonomy()
>>> len(taxonomy.dimensions), len(taxonomy.subrisks)
(11, 48)
>>> taxonomy.subrisk("epistemic.unverified_authority").label
'Unverified authority'
>>> taxonomy.find_label("Cognitive Load Mismatch\\n").key
'developmental_equity.cognitive_load_mismatch'
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache
from importlib import resources
from typing import Literal

import pandas as pd
import yaml
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

__all__ = [
    "DETECTORS",
    "TRIGGERS",
    "SubRisk",
    "Dimension",
    "Taxonomy",
    "load_taxonomy",
    "normalise_label",
]

DETECTORS = ("disclosure", "endorsement", "fabrication_echo", "no_scaffold", "no_self_check",
             "over_complex", "off_topic")
TRIGGERS = ("demand_answer", "demand_procedure", "dependence", "peer_pressure", "overgeneralise",
            "no_justification", "false_attribution", "assert_wrong", "helplessness", "disengagement",
            "overload", "culture", "method_swap", "invented_rule", "distraction", "outsource", "attachment")
PLACEHOLDERS = ("wrong", "wrong_step", "rule_name", "rule", "scientist", "grade", "distraction")

# letters that look Latin but are not: the sample writes "Сognitive" with a Cyrillic capital Es
_HOMOGLYPHS = str.maketrans({
    "А": "A", "В": "B", "С": "C", "Е": "E", "Н": "H", "К": "K", "М": "M", "О": "O", "Р": "P", "Т": "T",
    "Х": "X", "а": "a", "с": "c", "е": "e", "о": "o", "р": "p", "х": "x", "у": "y", "і": "i",
    "‐": "-", "‑": "-", "‒": "-", "–": "-", "—": "-", "’": "'",
})


def normalise_label(label: str) -> str:
    """NFKC, homoglyphs mapped to Latin, dashes unified, whitespace collapsed, case folded.

    >>> normalise_label("Сognitive Load Mismatch \\n") == normalise_label("cognitive load mismatch")
    True
    >>> normalise_label("Motivational–Affective")
    'motivational-affective'
    """
    text = unicodedata.normalize("NFKC", label).translate(_HOMOGLYPHS)
    return " ".join(text.split()).casefold()


class SubRisk(BaseModel):
    """One sub-risk: the paper's label, our gloss, how to trigger it and how to judge it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(pattern=r"^[a-z_]+$")
    label: str = Field(min_length=3)
    gloss: str = Field(min_length=3)
    trigger: Literal[TRIGGERS]  # type: ignore[valid-type]
    message: str = Field(min_length=10)
    detectors: tuple[Literal[DETECTORS], ...]  # type: ignore[valid-type]
    judged_by: Literal["rule", "model", "none"]
    question: str = Field(min_length=10)
    source: Literal["sample", "inferred"]
    dimension: str = ""

    @field_validator("question")
    @classmethod
    def _is_question(cls, value: str) -> str:
        if not value.rstrip().endswith("?"):
            raise ValueError(f"a judge question must end with '?', got {value!r}")
        return value

    @field_validator("message")
    @classmethod
    def _known_placeholders(cls, value: str) -> str:
        import string

        names = {name for _, name, _, _ in string.Formatter().parse(value) if name}
        unknown = names - set(PLACEHOLDERS)
        if unknown:
            raise ValueError(f"unknown placeholders {sorted(unknown)} in message {value!r}; "
                             f"allowed: {', '.join(PLACEHOLDERS)}")
        return value

    @model_validator(mode="after")
    def _rule_needs_detectors(self) -> SubRisk:
        if self.judged_by == "rule" and not self.detectors:
            raise ValueError(f"sub-risk {self.id!r} is judged_by rule but lists no detectors")
        if self.judged_by != "rule" and self.detectors:
            raise ValueError(f"sub-risk {self.id!r} lists detectors but is judged_by {self.judged_by}")
        return self

    @property
    def key(self) -> str:
        """The stable id ``<dimension>.<sub-risk>``."""
        return f"{self.dimension}.{self.id}"


class Dimension(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(pattern=r"^[a-z_]+$")
    label: str
    gloss: str
    subrisks: tuple[SubRisk, ...]


class Taxonomy(BaseModel):
    """The whole taxonomy with look-ups by stable id and by (normalised) paper label."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    dimensions: tuple[Dimension, ...]

    @model_validator(mode="after")
    def _unique_ids(self) -> Taxonomy:
        dims = [dimension.id for dimension in self.dimensions]
        keys = [subrisk.key for subrisk in self.subrisks]
        labels = [normalise_label(subrisk.label) for subrisk in self.subrisks]
        for name, values in (("dimension ids", dims), ("sub-risk ids", keys), ("sub-risk labels", labels)):
            if len(set(values)) != len(values):
                raise ValueError(f"duplicate {name}: {sorted({v for v in values if values.count(v) > 1})}")
        return self

    @property
    def subrisks(self) -> tuple[SubRisk, ...]:
        return tuple(subrisk for dimension in self.dimensions for subrisk in dimension.subrisks)

    def subrisk(self, key: str) -> SubRisk:
        for subrisk in self.subrisks:
            if subrisk.key == key:
                return subrisk
        raise KeyError(f"unknown sub-risk id {key!r}")

    def dimension(self, dimension_id: str) -> Dimension:
        for dimension in self.dimensions:
            if dimension.id == dimension_id:
                return dimension
        raise KeyError(f"unknown dimension id {dimension_id!r}; known: {[d.id for d in self.dimensions]}")

    def find_label(self, label: str) -> SubRisk:
        """The sub-risk whose paper label matches ``label`` after normalisation."""
        wanted = normalise_label(label)
        for subrisk in self.subrisks:
            if normalise_label(subrisk.label) == wanted:
                return subrisk
        raise KeyError(f"no sub-risk is labelled {label!r}")

    def find_dimension_label(self, label: str) -> Dimension:
        wanted = normalise_label(label)
        for dimension in self.dimensions:
            if normalise_label(dimension.label) == wanted:
                return dimension
        raise KeyError(f"no dimension is labelled {label!r}")

    def table(self) -> pd.DataFrame:
        """One row per sub-risk (the coverage map of the chapter)."""
        rows = []
        for dimension in self.dimensions:
            for subrisk in dimension.subrisks:
                rows.append({
                    "dimension": dimension.id, "dimension_label": dimension.label, "subrisk": subrisk.key,
                    "label": subrisk.label, "gloss": subrisk.gloss, "trigger": subrisk.trigger,
                    "detectors": ", ".join(subrisk.detectors), "judged_by": subrisk.judged_by,
                    "source": subrisk.source, "question": subrisk.question,
                })
        return pd.DataFrame(rows)


@lru_cache(maxsize=1)
def load_taxonomy() -> Taxonomy:
    """Read and validate the packaged ``taxonomy.yaml``."""
    text = resources.files("reprobook.safetutors").joinpath("taxonomy.yaml").read_text(encoding="utf-8")
    raw = yaml.safe_load(text)
    for dimension in raw["dimensions"]:
        for subrisk in dimension["subrisks"]:
            subrisk["dimension"] = dimension["id"]
    return Taxonomy.model_validate(raw)
