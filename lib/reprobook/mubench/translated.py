"""MuBench's own translated benchmarks, read from a user's local JSON files and scored per language (M2).

The data live on the Hugging Face hub (``aialt/MuBench``), which this book does not reach: a user who
has downloaded them points the ``mubench_dir`` parameter at the folder of ``<Dataset>_<mode>_<lang>.json``
files. Each language is one cached sweep cell; items are scored by log-likelihood exactly like the
CLDR probe (:func:`reprobook.mubench.scoring.score_items`), and :func:`drop_table` gives the per-task
accuracy drop from English that claim M2 judges.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from reprobook.mubench.loader import load_configs, load_items
from reprobook.mubench.scoring import aligned_arrays, score_items

__all__ = ["TranslatedConfig", "run_translated_language", "score_translated", "drop_table"]


@dataclass(frozen=True)
class TranslatedConfig:
    """One cached cell: the first ``max_items`` items of each dataset in one language."""

    folder: str
    datasets: tuple[str, ...]
    mode: str
    lang: str
    max_items: int
    model: str
    num_threads: int | str
    batch_size: int
    chat_template: bool
    device: str = "cpu"
    endpoint: tuple = ()


def run_translated_language(config: TranslatedConfig) -> pd.DataFrame:
    """Score one language's MuBench items; one row per (item, option), as :func:`score_items`."""
    from reprobook.mubench.chapter import _backend

    backend = _backend(config.model, config.num_threads, config.batch_size, config.device, config.endpoint)
    items = load_items(config.folder, config.datasets, config.mode, [config.lang], config.max_items)
    return score_items(backend, items, chat_template=config.chat_template)


def score_translated(params, *, cache: bool = True) -> pd.DataFrame | None:
    """Every language's score table for the chapter's parameters, or None when no MuBench folder is given.

    The ``_id`` alignment of every dataset across the languages is checked before anything is scored.
    """
    from reprobook.sweep import sweep

    if params.mubench_dir is None:
        return None
    for dataset in params.mubench_datasets:
        load_configs(params.mubench_dir, dataset, params.mubench_mode, params.languages)
    configs = [TranslatedConfig(params.mubench_dir, params.mubench_datasets, params.mubench_mode, lang,
                                params.mubench_items, params.model, params.num_threads, params.batch_size,
                                params.chat_template, params.device, params.endpoint) for lang in params.languages]
    tables = sweep(run_translated_language, configs, backend="serial", cache=cache, desc="MuBench languages")
    return pd.concat(tables, ignore_index=True)


def drop_table(table: pd.DataFrame, languages) -> pd.DataFrame:
    """Per dataset: items, English accuracy, mean accuracy of the other languages, and the drop.

    >>> from reprobook.mubench.scoring import stub_backend
    >>> from reprobook.mubench.cldr_probe import build_probe
    >>> frame = score_items(stub_backend(), build_probe(["en", "de"], ["weekday", "month"]))
    >>> drop_table(frame, ["en", "de"]).columns.tolist()
    ['task', 'items', 'acc_en', 'acc_other', 'drop']
    """
    rows = []
    for task in sorted(set(table.task)):
        correct = aligned_arrays(table[table.task == task], languages=list(languages)).correct
        others = np.delete(correct, 0, axis=0)
        rows.append({"task": task, "items": correct.shape[1], "acc_en": correct[0].mean(),
                     "acc_other": others.mean(), "drop": correct[0].mean() - others.mean()})
    return pd.DataFrame(rows)
