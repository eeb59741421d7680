"""Reading MuBench-format JSON (``paper`` profile) and parsing option letters behind localised markers.

MuBench configs are named ``{Dataset}_{mode}_{lang}`` (modes ``local_template``, ``en_template``,
``lighteval``, ``mix``, ``mix_lighteval``; mixed modes may end in ``_k``). The data live on the
Hugging Face hub (``aialt/MuBench``), which this book does not reach offline: :func:`load_configs`
reads local JSON files that a user downloaded. The record fields assumed here (``_id``, ``question``,
``choices``, ``answer``) are our reading of the data card, not checked against the files.

The answer parser accepts the letter behind any localised prefix ("答案：B", "الإجابة: B", "Antwort (C)"),
the failure mode where an English-only pattern such as ``^Answer: ([A-D])`` silently yields no rows.

>>> parse_config_name("MMLU_local_template_sw")
('MMLU', 'local_template', 'sw', None)
>>> parse_choice("答案：Ｂ", 4), parse_choice("الإجابة: C", 4), parse_choice("no idea", 4)
(1, 2, None)
"""

from __future__ import annotations

import json
import re
import unicodedata
from pathlib import Path

from reprobook.mubench.cldr_probe import LANGUAGES, ProbeItem

__all__ = ["MODES", "DATASETS", "parse_config_name", "parse_choice", "load_configs", "HubNotReachable",
           "answer_index", "records_to_items", "load_items"]

MODES = ("local_template", "en_template", "lighteval", "mix", "mix_lighteval")
DATASETS = ("ARCChallenge", "ARCEasy", "BMLAMA", "GPQA", "Hellaswag", "MMLU", "MMLUPro", "MNLI", "SNLI",
            "StoryCloze", "TruthfulQA", "WinoGrande")


class HubNotReachable(FileNotFoundError):
    """The MuBench JSON is not available locally (the hub is not reachable offline)."""


def parse_config_name(name: str) -> tuple[str, str, str, int | None]:
    """(dataset, mode, language, k) of a config name; ``k`` is the mixed-language count or None."""
    for dataset in sorted(DATASETS, key=len, reverse=True):
        if not name.startswith(dataset + "_"):
            continue
        rest = name[len(dataset) + 1:]
        for mode in sorted(MODES, key=len, reverse=True):
            if rest.startswith(mode + "_"):
                tail = rest[len(mode) + 1:].split("_")
                lang = tail[0]
                k = int(tail[1]) if len(tail) == 2 and tail[1].isdigit() and mode.startswith("mix") else None
                if lang in LANGUAGES and len(tail) == (2 if k is not None else 1):
                    return dataset, mode, lang, k
    raise ValueError(f"{name!r} is not a MuBench config name '{{Dataset}}_{{mode}}_{{lang}}[_k]' "
                     f"(datasets {', '.join(DATASETS)}; modes {', '.join(MODES)})")


def parse_choice(text: str, n_options: int) -> int | None:
    """Index of the first standalone option letter (A, B, …) in a reply, after NFKC normalisation.

    A letter counts when no other Latin letter touches it, so localised prefixes in any script pass.
    """
    letters = "ABCDEFGHIJ"[:n_options]
    normal = unicodedata.normalize("NFKC", text)
    match = re.search(rf"(?<![A-Za-z])([{letters}])(?![A-Za-z])", normal)
    return None if match is None else letters.index(match.group(1))


def load_configs(folder: str | Path, dataset: str, mode: str, languages) -> dict[str, list[dict]]:
    """Records per language from ``<folder>/<Dataset>_<mode>_<lang>.json``; asserts the ``_id`` alignment."""
    folder = Path(folder)
    records = {}
    for lang in languages:
        path = folder / f"{dataset}_{mode}_{lang}.json"
        if not path.exists():
            raise HubNotReachable(f"{path} not found: MuBench lives on the Hugging Face hub (aialt/MuBench), "
                                  "which is not reachable offline; download it first (paper profile)")
        records[lang] = json.loads(path.read_text(encoding="utf-8"))
    reference = None
    for lang, rows in records.items():
        ids = [row["_id"] for row in rows]
        if reference is None:
            reference = ids
        elif ids != reference:
            raise AssertionError(f"{dataset}_{mode}_{lang}: the _id sequence differs from the first language's")
    return records


def answer_index(record: dict, n_options: int) -> int:
    """The correct option's index from a record's ``answer``: an index, a letter (behind any localised
    marker) or the option's own text.

    >>> answer_index({"answer": "答案：C", "choices": ["x", "y", "z"]}, 3), answer_index({"answer": 1}, 2)
    (2, 1)
    """
    answer = record["answer"]
    if isinstance(answer, bool):
        raise ValueError(f"record {record.get('_id')!r}: answer {answer!r} is not an option")
    if isinstance(answer, int) and 0 <= answer < n_options:
        return answer
    if isinstance(answer, str):
        choices = [str(choice).strip() for choice in record.get("choices", [])]
        if answer.strip() in choices:
            return choices.index(answer.strip())
        index = parse_choice(answer, n_options)
        if index is not None:
            return index
    raise ValueError(f"record {record.get('_id')!r}: answer {answer!r} names none of its {n_options} options")


def records_to_items(records: dict[str, list[dict]], dataset: str, max_items: int | None = None) -> list[ProbeItem]:
    """Aligned multiple-choice items from :func:`load_configs` output, scored like the CLDR probe.

    Each record becomes one item per language: the prompt is the (localised) question, the options are
    its choices after a space (lm-eval's multiple-choice form), and option *i* has the canonical value
    ``<dataset>-<_id>:<i>`` in every language, so agreement compares the same option across languages.
    The first ``max_items`` ids (in the files' shared order) are kept.
    """
    items = []
    for lang, rows in records.items():
        for row in rows[:max_items]:
            choices = [str(choice) for choice in row["choices"]]
            item_id = f"{dataset}-{row['_id']}"
            items.append(ProbeItem(
                item_id=item_id, task=dataset, lang=lang, prompt=str(row["question"]).rstrip(),
                options=tuple(f"{item_id}:{index}" for index in range(len(choices))),
                option_texts=tuple(" " + choice.strip() for choice in choices),
                answer=f"{item_id}:{answer_index(row, len(choices))}", score_group=item_id))
    return items


def load_items(folder: str | Path, datasets, mode: str, languages, max_items: int | None = None) -> list[ProbeItem]:
    """Every item of ``datasets`` in ``mode`` for ``languages`` from a folder of MuBench JSON files."""
    items = []
    for dataset in datasets:
        items += records_to_items(load_configs(folder, dataset, mode, languages), dataset, max_items)
    return items
