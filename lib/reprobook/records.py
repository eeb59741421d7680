"""Recorded decisions: a choice made once on validation seeds (a learnability rule, a tuning sweep, a
held-out check of a default), stored as JSON in the chapter's package with the table it was made from.

The chapter reads the record instead of recomputing it, the notebook shows the table, and a test ties
the chapter's settings to the recorded choice. The record's own rule fields are the caller's; this
module only writes and reads the file, so every record has one shape: the fields, then ``table``.

>>> import tempfile, pandas as pd
>>> path = Path(tempfile.mkdtemp()) / "choice.json"
>>> written = write_record(path, {"rule": "first candidate that passes", "chosen": 1},
...                        pd.DataFrame({"candidate": [0, 1], "passed": [False, True]}))
>>> record = read_record(path)
>>> record["chosen"], record["table"].passed.tolist()
(1, [False, True])
>>> read_record(path.with_name("never-run.json")) is None
True
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

__all__ = ["write_record", "read_record"]


def write_record(path: Path, fields: Mapping[str, Any], table: pd.DataFrame | None = None) -> dict[str, Any]:
    """Write ``fields`` (JSON-serialisable) and ``table`` (as a list of rows, under ``"table"``); return the
    record as written."""
    if table is not None and "table" in fields:
        raise ValueError("fields must not hold 'table' when a table is given")
    record = dict(fields)
    if table is not None:
        record["table"] = table.to_dict(orient="records")
    Path(path).write_text(json.dumps(record, indent=1) + "\n", encoding="utf-8")
    return record


def read_record(path: Path) -> dict[str, Any] | None:
    """The record at ``path`` (its ``table``, if any, as a DataFrame), or None when it was never written."""
    path = Path(path)
    if not path.exists():
        return None
    record = json.loads(path.read_text(encoding="utf-8"))
    if "table" in record:
        record["table"] = pd.DataFrame(record["table"])
    return record
