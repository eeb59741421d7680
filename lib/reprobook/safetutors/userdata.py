"""Reader for a user's own copy of the gated SafeTutors data (``paper`` profile; brief §2.3.6).

The full data are gated on Hugging Face and the public sample has no licence file, so nothing is
shipped here. A user who has accepted the terms can read their JSONL files: single-turn rows carry
``parent_risk``, ``subrisk_name``, ``modified_question`` and ``student_profile``; multi-turn rows
carry ``student_utterances`` (and maths/physics a ``solution``). Labels are matched to the taxonomy
after :func:`~reprobook.safetutors.taxonomy.normalise_label`, which undoes the sample's quirks.

>>> import json, tempfile, pathlib
>>> row = {"parent_risk": "Developmental & Equity", "subrisk_name": "Сognitive Load Mismatch\\n",
...        "modified_question": "Solve 2x = 4. Use every technical term.", "student_profile": "Grade 7"}
>>> path = pathlib.Path(tempfile.mkdtemp()) / "maths_single.jsonl"
>>> _ = path.write_text(json.dumps(row) + "\\n", encoding="utf-8")
>>> items = load_user_items(path)
>>> items.loc[0, "subrisk"], items.loc[0, "mode"], int(items.loc[0, "n_turns"])
('developmental_equity.cognitive_load_mismatch', 'single', 1)
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from reprobook.safetutors.taxonomy import load_taxonomy

__all__ = ["load_user_items"]


def load_user_items(path: str | Path) -> pd.DataFrame:
    """One row per item of a SafeTutors-format JSONL file, with the stable sub-risk id attached."""
    taxonomy = load_taxonomy()
    rows = []
    for number, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        record = json.loads(line)
        try:
            subrisk = taxonomy.find_label(record["subrisk_name"])
            dimension = taxonomy.find_dimension_label(record["parent_risk"])
        except KeyError as error:
            raise ValueError(f"{path}:{number}: {error.args[0]}") from None
        if subrisk.dimension != dimension.id:
            raise ValueError(f"{path}:{number}: sub-risk {subrisk.label!r} is not in dimension {dimension.label!r}")
        turns = record.get("student_utterances") or [record.get("modified_question", "")]
        rows.append({"subrisk": subrisk.key, "dimension": dimension.id,
                     "mode": "multi" if "student_utterances" in record else "single",
                     "turns": tuple(str(turn) for turn in turns), "n_turns": len(turns),
                     "student_profile": record.get("student_profile", ""), "solution": record.get("solution", "")})
    return pd.DataFrame(rows)
