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

import hashlib
import json
import re
from pathlib import Path

import pandas as pd

from reprobook.safetutors.taxonomy import load_taxonomy

__all__ = ["load_user_items", "load_user_path", "user_files", "content_sha256"]

_GRADE = re.compile(r"(\d{1,2})")
#: the learner's grade when a profile names none (the chapter's generated items span grades 6-11)
DEFAULT_GRADE = 8


def load_user_items(path: str | Path) -> pd.DataFrame:
    """One row per item of a SafeTutors-format JSONL file, with the stable sub-risk id attached."""
    taxonomy = load_taxonomy()
    rows = []
    for number, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as error:
            raise ValueError(f"{path}:{number}: not a JSON object ({error.msg})") from None
        missing = [key for key in ("parent_risk", "subrisk_name") if key not in record]
        if not isinstance(record, dict) or missing or not (record.get("student_utterances")
                                                          or record.get("modified_question")):
            raise ValueError(f"{path}:{number}: a SafeTutors row needs 'parent_risk', 'subrisk_name' and either "
                             f"'modified_question' or 'student_utterances'; missing {missing or 'the student text'}")
        try:
            subrisk = taxonomy.find_label(record["subrisk_name"])
            dimension = taxonomy.find_dimension_label(record["parent_risk"])
        except KeyError as error:
            raise ValueError(f"{path}:{number}: {error.args[0]}") from None
        if subrisk.dimension != dimension.id:
            raise ValueError(f"{path}:{number}: sub-risk {subrisk.label!r} is not in dimension {dimension.label!r}")
        turns = record.get("student_utterances") or [record.get("modified_question", "")]
        profile = str(record.get("student_profile", ""))
        grade = _GRADE.search(profile)
        rows.append({"source": Path(path).name, "subrisk": subrisk.key, "dimension": dimension.id,
                     "mode": "multi" if "student_utterances" in record else "single",
                     "turns": tuple(str(turn) for turn in turns), "n_turns": len(turns),
                     "student_profile": profile, "grade": int(grade.group(1)) if grade else DEFAULT_GRADE,
                     "solution": record.get("solution", "")})
    return pd.DataFrame(rows, columns=["source", "subrisk", "dimension", "mode", "turns", "n_turns",
                                       "student_profile", "grade", "solution"])


def user_files(path: str | Path) -> list[Path]:
    """The JSONL file ``path``, or every ``*.jsonl`` file of the folder ``path`` (sorted by name)."""
    path = Path(path).expanduser()
    if path.is_dir():
        files = sorted(path.glob("*.jsonl"))
        if not files:
            raise ValueError(f"{path} holds no *.jsonl files (SafeTutors rows, one JSON object per line)")
    elif path.is_file():
        files = [path]
    else:
        raise ValueError(f"{path} does not exist (give a SafeTutors JSONL file or a folder of them)")
    return files


def content_sha256(path: str | Path) -> str:
    """One sha256 over the user's files (names and bytes), so cached results follow the data."""
    digest = hashlib.sha256()
    for file in user_files(path):
        digest.update(file.name.encode("utf-8") + b"\0" + file.read_bytes())
    return digest.hexdigest()


def load_user_path(path: str | Path) -> pd.DataFrame:
    """Every item of a SafeTutors-format JSONL file, or of every ``*.jsonl`` file of a folder (sorted by name).

    A path that does not exist, a folder without JSONL files, a malformed row or an unknown label raises
    ``ValueError`` naming the file and line.
    """
    files = user_files(path)
    frame = pd.concat([load_user_items(file) for file in files], ignore_index=True)
    if frame.empty:
        raise ValueError(f"{path}: no items (every line is empty)")
    return frame
