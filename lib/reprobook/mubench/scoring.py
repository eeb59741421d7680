"""Multiple-choice scoring of probe items with any :class:`reprobook.lm.Backend`, and the aligned arrays.

Items of one language that share a scored candidate set (``score_group``) go to the backend in one
``score`` call, so the kit's shared-prefix scoring runs each prompt once and every candidate from its
KV cache. Selection rules (lm-evaluation-harness): ``acc`` = argmax of the summed log-probability;
``acc_char`` = argmax of the log-probability per UTF-8 byte. Per-token normalisation is deliberately
absent: it depends on the tokenizer and is biased across scripts.

>>> from reprobook.mubench.cldr_probe import build_probe
>>> table = score_items(stub_backend(), build_probe(["en", "de"], ["weekday"]))
>>> arrays = aligned_arrays(table)
>>> arrays.pred.shape, arrays.scores.shape
((2, 7), (2, 7, 4))
"""

from __future__ import annotations

import hashlib
import time
from collections import defaultdict
from dataclasses import dataclass

import numpy as np
import pandas as pd

from reprobook.lm import StubBackend
from reprobook.mubench.cldr_probe import ProbeItem

__all__ = ["score_items", "aligned_arrays", "AlignedArrays", "stub_backend", "hash_logprob", "naive_score"]


def hash_logprob(prompt, option: str) -> float:
    """A deterministic pseudo-random log-probability in [−10, −1): a "random guesser" model.

    >>> hash_logprob("a", "b") == hash_logprob("a", "b")
    True
    """
    digest = hashlib.sha256(f"{prompt!s}\x00{option}".encode()).digest()
    return -1.0 - 9.0 * int.from_bytes(digest[:8], "little") / 2**64


def stub_backend() -> StubBackend:
    """The kit's ``StubBackend`` with hashed scores (smoke runs and tests, no model needed)."""
    return StubBackend(option_logprobs=hash_logprob)


def score_items(backend, items: list[ProbeItem], *, chat_template: bool = False) -> pd.DataFrame:
    """One row per (language, item, option): log-prob, tokens and bytes of each option's continuation.

    ``chat_template=True`` wraps each prompt as a user turn (the backend's template then applies);
    the default scores the raw continuation, as lm-eval does for base-model multiple choice.
    """
    groups: dict[tuple[str, str, str], list[ProbeItem]] = defaultdict(list)
    for item in items:
        groups[(item.lang, item.task, item.score_group)].append(item)
    rows = []
    for (lang, task, _group), members in groups.items():
        texts = sorted({(value, text) for item in members for value, text in zip(item.options, item.option_texts, strict=True)})
        candidates = [text for _, text in texts]
        if len(set(candidates)) != len(candidates):
            raise ValueError(f"{lang}/{task}: two canonical values share one surface form")
        prompts = [item.prompt for item in members]
        sent = [[{"role": "user", "content": prompt}] for prompt in prompts] if chat_template else prompts
        started, cpu = time.perf_counter(), time.process_time()
        scored = backend.score(sent, candidates)
        wall, cpu = time.perf_counter() - started, time.process_time() - cpu
        column = {value: position for position, (value, _) in enumerate(texts)}
        for item, row in zip(members, scored, strict=True):
            for value, text in zip(item.options, item.option_texts, strict=True):
                option = row[column[value]]
                rows.append({"lang": lang, "task": task, "item_id": item.item_id, "value": value, "text": text,
                             "answer": item.answer, "logprob": option.logprob, "n_tokens": option.n_tokens,
                             "n_bytes": option.n_bytes, "group_wall_s": wall / len(members),
                             "group_cpu_s": cpu / len(members)})
    return pd.DataFrame(rows)


@dataclass(frozen=True)
class AlignedArrays:
    """Languages × items arrays in a fixed (language, item) order; options in canonical order."""

    languages: tuple[str, ...]
    item_ids: tuple[str, ...]
    tasks: tuple[str, ...]
    values: tuple[tuple[str, ...], ...]  # canonical options per item
    scores: np.ndarray  # L × N × K, the selection scores (summed or per byte)
    pred: np.ndarray  # L × N integer codes of the chosen value
    answer: np.ndarray  # N integer codes of the correct value
    codes: tuple[str, ...]  # code → canonical value id

    @property
    def correct(self) -> np.ndarray:
        return self.pred == self.answer[None, :]


def aligned_arrays(table: pd.DataFrame, *, normalisation: str = "sum", languages=None) -> AlignedArrays:
    """Arrays for the consistency metrics; ``normalisation`` is ``sum`` (acc) or ``byte`` (acc_char)."""
    if normalisation not in ("sum", "byte"):
        raise ValueError(f"normalisation must be 'sum' or 'byte', got {normalisation!r}")
    langs = tuple(languages) if languages is not None else tuple(dict.fromkeys(table["lang"]))
    frame = table.assign(score=table.logprob / (table.n_bytes if normalisation == "byte" else 1.0))
    frame = frame.sort_values(["item_id", "value"], kind="stable")
    item_ids = tuple(sorted(set(frame.item_id)))
    codes = tuple(sorted(set(frame.value)))
    code_of = {value: code for code, value in enumerate(codes)}
    per_item = frame[frame.lang == langs[0]].groupby("item_id", sort=True)
    values = tuple(tuple(group.value) for _, group in per_item)
    tasks = tuple(group.task.iloc[0] for _, group in per_item)
    answer = np.array([code_of[group.answer.iloc[0]] for _, group in per_item])
    k = len(values[0])
    scores = np.full((len(langs), len(item_ids), k), np.nan)
    for row, lang in enumerate(langs):
        sub = frame[frame.lang == lang]
        if tuple(sorted(set(sub.item_id))) != item_ids:
            raise AssertionError(f"{lang}: the aligned item id set differs from {langs[0]}'s")
        block = sub.score.to_numpy().reshape(len(item_ids), k)
        if tuple(tuple(group.value) for _, group in sub.groupby("item_id", sort=True)) != values:
            raise AssertionError(f"{lang}: canonical options differ from {langs[0]}'s")
        scores[row] = block
    choice = np.argmax(scores, axis=2)
    value_codes = np.array([[code_of[value] for value in item] for item in values])
    pred = value_codes[np.arange(len(item_ids))[None, :], choice]
    return AlignedArrays(langs, item_ids, tasks, values, scores, pred, answer, codes)


def naive_score(backend, prompts: list[str], options: list[str]) -> np.ndarray:
    """Full re-scoring baseline for a ``TransformersBackend``: every prompt + option as its own sequence.

    The prompt and the option are encoded separately and concatenated (the same token split as the
    shared-prefix path), so both must agree to floating-point error. Returns prompts × options.
    """
    import torch

    tokenizer, model = backend.tokenizer, backend.model
    option_ids = [tokenizer(text, add_special_tokens=False)["input_ids"] for text in options]
    out = np.zeros((len(prompts), len(options)))
    for row, prompt in enumerate(prompts):
        prefix = tokenizer(prompt, add_special_tokens=False)["input_ids"]
        sequences = [prefix + ids for ids in option_ids]
        width = max(len(sequence) for sequence in sequences)
        pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
        batch = torch.full((len(sequences), width), pad, dtype=torch.long)
        mask = torch.zeros_like(batch)
        for index, sequence in enumerate(sequences):
            batch[index, :len(sequence)] = torch.tensor(sequence)
            mask[index, :len(sequence)] = 1
        with torch.inference_mode():
            logp = torch.log_softmax(model(input_ids=batch, attention_mask=mask).logits.float(), dim=-1)
        for index, ids in enumerate(option_ids):
            steps = torch.arange(len(prefix) - 1, len(prefix) + len(ids) - 1)
            out[row, index] = float(logp[index, steps, torch.tensor(ids)].sum())
    return out
