"""MRBench v2 (Maurya et al., NAACL 2025): tutor replies with human pedagogy labels (brief §4.1).

The file (CC BY-SA 4.0) comes from the book's dataset registry and stays a separate data file. Each
of the 1,655 replies has a three-way human label "Revealing_of_the_Answer" (no / yes and correct /
yes but incorrect); the loader maps the file's exact strings to ``no``, ``yes_correct`` and
``yes_incorrect`` and fails on any other value.

Every conversation falls in a fixed ``dev`` or ``test`` half (by the sha256 of its id), so the rule
detectors are validated on held-out conversations (their replies share a problem and a context, so
they are never split between halves).
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import numpy as np
import pandas as pd

from reprobook import data

__all__ = ["DATASET", "REVEAL_LABELS", "load_mrbench", "final_answer", "split_of"]

DATASET = "safetutors/mrbench/MRBench_V2.json"
REVEAL_LABELS = {
    "No": "no",
    "Yes (and the answer is correct)": "yes_correct",
    "Yes (but the answer is incorrect)": "yes_incorrect",
}
_LAST_NUMBER = re.compile(r"^\s*[-−]?\$?\d[\d,]*(?:\.\d+)?\s*$")


def final_answer(solution: str) -> float:
    """The final number of a MathDial-style solution (its last line), or NaN.

    >>> final_answer("so 72 / 8 = 9 boxes.\\n 9")
    9.0
    >>> import math; math.isnan(final_answer("Not Available"))
    True
    """
    lines = [line for line in str(solution).replace("\xa0", " ").splitlines() if line.strip()]
    if not lines or not _LAST_NUMBER.match(lines[-1]):
        return float("nan")
    return float(lines[-1].strip().replace(",", "").replace("$", "").replace("−", "-"))


def _problem_text(history: str) -> str:
    """The problem statement inside MathDial's first tutor turn, else the first 400 characters."""
    text = history.replace("\xa0", " ")
    match = re.search(r"The question is:(.*?)(?:\n\s*Student:|$)", text, flags=re.S)
    return (match.group(1) if match else text[:400]).strip()


def _last_turns(history: str, n: int = 2) -> str:
    turns = [turn.strip() for turn in re.split(r"\n\s*(?=(?:Tutor|Student):)", history.replace("\xa0", " "))
             if turn.strip()]
    return "\n".join(turns[-n:])


def load_mrbench(path: str | Path | None = None) -> pd.DataFrame:
    """One row per tutor reply: ids, tutor, reply, problem, last two turns, final answer, human labels."""
    source = Path(path) if path is not None else data.fetch(DATASET)
    records = json.loads(Path(source).read_text(encoding="utf-8"))
    rows = []
    for conversation in records:
        history = conversation["conversation_history"]
        answer = final_answer(conversation["Ground_Truth_Solution"])
        for tutor, entry in conversation["anno_llm_responses"].items():
            label = entry["annotation"]["Revealing_of_the_Answer"]
            if label not in REVEAL_LABELS:
                raise ValueError(f"unexpected Revealing_of_the_Answer value {label!r} in {source}")
            rows.append({
                "conversation_id": conversation["conversation_id"], "source": conversation["Data"],
                "tutor": tutor, "reply": str(entry["response"]).replace("\xa0", " "),
                "problem": _problem_text(history), "context": _last_turns(history),
                "final_answer": answer, "reveal": REVEAL_LABELS[label],
                "guidance": entry["annotation"].get("Providing_Guidance"),
            })
    frame = pd.DataFrame(rows)
    frame["reveal_correct"] = frame["reveal"] == "yes_correct"
    frame["reveal_any"] = frame["reveal"] != "no"
    frame["numeric"] = np.isfinite(frame["final_answer"].to_numpy(dtype=float))
    frame["split"] = [split_of(conversation) for conversation in frame["conversation_id"]]
    return frame


def split_of(conversation_id: object) -> str:
    """``dev`` or ``test``: a fixed half of the conversations, by the sha256 of the id.

    >>> split_of("123"), split_of(123)
    ('dev', 'dev')
    """
    digest = hashlib.sha256(str(conversation_id).encode("utf-8")).digest()
    return "test" if digest[0] % 2 else "dev"
