"""MuBench's own JSON (a fixture in its published shape) through scoring to claim M2, at the paper profile."""

import json

import numpy as np
import pandas as pd
import pytest
from mubench_worlds import aligned, worlds

from reprobook.claims import NOT_TESTABLE, REPRODUCED
from reprobook.mubench.chapter import validate_parameters
from reprobook.mubench.ledger import build_ledger, claim_results, translated_results
from reprobook.mubench.loader import answer_index, records_to_items
from reprobook.mubench.translated import drop_table, score_translated

LANGS = ("en", "zh", "ar")
ANSWER_MARKERS = {"en": "Answer: {}", "zh": "答案：{}", "ar": "الإجابة: {}"}


def write_fixture(folder, datasets=(("MMLU", 4), ("SNLI", 3)), n_items=5):
    for dataset, k in datasets:
        for lang in LANGS:
            rows = [{"_id": f"{dataset.lower()}-{i}", "question": f"{lang} question {i}?",
                     "choices": [f"{lang} option {j}" for j in range(k)],
                     "answer": ANSWER_MARKERS[lang].format("ABCD"[i % k])} for i in range(n_items)]
            (folder / f"{dataset}_local_template_{lang}.json").write_text(json.dumps(rows, ensure_ascii=False),
                                                                          encoding="utf-8")


def test_user_files_are_scored_in_every_language(tmp_path):
    write_fixture(tmp_path)
    params = validate_parameters(profile="smoke", model="stub", languages=list(LANGS), tasks=["weekday"],
                                 mubench_dir=str(tmp_path), mubench_datasets=["MMLU", "SNLI"], mubench_items=4)
    table = score_translated(params, cache=False)
    # localised answer markers must not drop a language (the silent zero-row failure)
    assert table.groupby("lang").item_id.nunique().to_dict() == {lang: 8 for lang in LANGS}
    assert set(table.answer) == {f"mmlu-mmlu-{i}:{i % 4}".replace("mmlu-mmlu", "MMLU-mmlu") for i in range(4)} | \
        {f"SNLI-snli-{i}:{i % 3}" for i in range(4)}
    drops = drop_table(table, params.languages)
    assert drops.task.tolist() == ["MMLU", "SNLI"] and (drops["items"] == 4).all()
    assert score_translated(validate_parameters(profile="smoke", model="stub")) is None


def test_answers_by_index_letter_or_text():
    assert answer_index({"answer": 2, "choices": ["a", "b", "c"]}, 3) == 2
    assert answer_index({"answer": "b", "choices": ["a", "b"]}, 2) == 1
    with pytest.raises(ValueError, match="names none"):
        answer_index({"_id": 7, "answer": "Z", "choices": ["a", "b"]}, 2)
    items = records_to_items({"en": [{"_id": 1, "question": "q", "choices": ["x", "y"], "answer": "B"}]}, "SNLI")
    assert items[0].answer == "SNLI-1:1" and items[0].option_texts == (" x", " y")


def score_table(acc_en: dict[str, float], acc_other: dict[str, float], n_items: int = 40, seed: int = 0):
    """A hand-made score table: per task, English right with probability acc_en[task], others acc_other[task]."""
    rng = np.random.default_rng(seed)
    rows = []
    for task in acc_en:
        for item in range(n_items):
            item_id = f"{task}-{item:03d}"
            for index, lang in enumerate(("en", "l1", "l2", "l3", "l4", "l5")):
                right = rng.random() < (acc_en if index == 0 else acc_other)[task]
                chosen = 0 if right else 1 + int(rng.integers(2))
                for option in range(3):
                    rows.append({"lang": lang, "task": task, "item_id": item_id, "value": f"{item_id}:{option}",
                                 "answer": f"{item_id}:0", "logprob": -1.0 if option == chosen else -5.0,
                                 "n_tokens": 1, "n_bytes": 1})
    return pd.DataFrame(rows)


def m2_verdict(table, seed=0):
    results = claim_results(aligned(1.0, 0.3, shared_wrong=True, seed=seed), worlds(True), profile="paper",
                            model="smollm2", n_bootstrap=300, n_null=30, n_permutations=300, translated=table)
    return build_ledger("paper").evaluate(results).set_index("claim").loc["M2"]


def test_m2_reproduces_task_dependent_drops_and_nothing_in_the_null_world():
    effect = m2_verdict(score_table({"A": 0.9, "B": 0.9}, {"A": 0.2, "B": 0.85}, n_items=200))
    assert effect["verdict"] == REPRODUCED, effect.to_dict()
    for seed in range(3):
        null = m2_verdict(score_table({"A": 0.9, "B": 0.9}, {"A": 0.5, "B": 0.5}, seed=seed), seed=seed)
        assert null["verdict"] != REPRODUCED, null.to_dict()
    missing = m2_verdict(None)
    assert missing["verdict"] == NOT_TESTABLE and "mubench_dir" in missing["note"]
    assert not translated_results(None, None)["mubench_data"].passed
