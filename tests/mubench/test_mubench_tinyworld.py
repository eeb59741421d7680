"""Tiny-world data invariants, the permutation null, and a short training run that must learn."""

import numpy as np
import pandas as pd

from reprobook.mubench import chapter
from reprobook.mubench.ledger import world_results
from reprobook.mubench.tinyworld import (
    WorldConfig,
    build_world,
    permutation_null,
    run_world,
    sample_batch,
    transfer_correct,
)


def test_exposure_groups_and_sequences():
    config = WorldConfig(n_people=30, p_parallel=0.3, batch=200)
    world = build_world(config)
    groups = [set(members) for members in world.groups.values()]
    assert sum(map(len, groups)) == 30 and len(set.union(*groups)) == 30
    batch = sample_batch(world, config, np.random.default_rng(0))
    assert (batch[:, 0] == world.index["<sep>"]).all()
    names = {world.index[name]: person for person, name in enumerate(world.names)}
    zh_tokens = {int(t) for (lang, _), ids in world.value_tokens.items() if lang == "zh" for t in ids}
    en_tokens = {int(t) for (lang, _), ids in world.value_tokens.items() if lang == "en" for t in ids}
    parallel = 0
    for row in batch:
        facts = row[1:].reshape(-1, 4)
        for index, fact in enumerate(facts):
            person = names[int(fact[0])]
            language = "en" if int(fact[2]) in en_tokens else "zh"
            # name → value distance is the same (2 tokens) in both languages; facts are true
            assert int(fact[3]) == world.index["." if language == "en" else "。"]
            assert person not in world.groups["zh" if language == "en" else "en"]
            if language == "en" and index + 1 < len(facts) and names[int(facts[index + 1][0])] == person \
                    and int(facts[index + 1][2]) in zh_tokens and int(facts[index + 1][1]) != int(fact[1]):
                parallel += 1
                assert person in world.groups["both"]  # parallel units only from A_both
    assert parallel > 0


def test_oracle_sees_every_fact_in_both_languages():
    config = WorldConfig(n_people=12, oracle=True, batch=300)
    world = build_world(config)
    batch = sample_batch(world, config, np.random.default_rng(1))
    zh_tokens = {int(t) for (lang, _), ids in world.value_tokens.items() if lang == "zh" for t in ids}
    seen_zh = {int(fact[0]) for fact in batch[:, 1:].reshape(-1, 4) if int(fact[2]) in zh_tokens}
    assert {world.index[world.names[p]] for p in world.groups["en"]} <= seen_zh


def test_permutation_null_of_a_constant_guesser_is_exact():
    # a model that always predicts 0: shuffling keeps its accuracy exactly
    facts = pd.DataFrame({"attribute": ["month"] * 6, "group": ["en", "en", "zh", "zh", "both", "both"],
                          "truth": [0, 1, 0, 2, 0, 0], "pred_en": [0] * 6, "pred_zh": [0] * 6})
    null = permutation_null(facts, n_permutations=200)
    assert np.allclose(null, transfer_correct(facts).mean())
    assert transfer_correct(facts).tolist() == [1.0, 0.0, 1.0, 0.0]


def test_short_training_memorises_and_gate_metrics_run():
    params = chapter.validate_parameters(profile="smoke", model="stub", b2_runs=["p0", "p20", "oracle"], b2_steps=100,
                                         b2_batch=16, b2_people=9, n_permutations=200, n_bootstrap=200,
                                         b2_seeds=[0, 1])
    assert params.world_keys() == [("p0", 0), ("p0", 1), ("p20", 0), ("p20", 1), ("oracle", 0)]
    results = {key: run_world(config) for key, config in zip(params.world_keys(), params.world_configs(), strict=True)}
    assert results[("p0", 0)]["curve"].loss.iloc[-1] < 2.0
    assert all(result["steps_done"] <= 100 for result in results.values())
    metrics = world_results(results, n_permutations=200, n_bootstrap=200)
    assert metrics["m6_transfer_gain"].n == 2 and metrics["m6_seed_noise"].n == 2
    assert isinstance(metrics["b2_gate"].passed, bool)


def test_training_stops_at_memorisation():
    config = WorldConfig(n_people=9, steps=400, batch=16, eval_every=25, stop_when_memorised=True)
    result = run_world(config)
    assert result["memorised"] and result["steps_done"] < 400
    assert result["curve"]["in_language"].iloc[-1] == 1.0
