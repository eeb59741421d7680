"""Tiny-world data invariants, the permutation null, and a short training run that must learn."""

import numpy as np
import pandas as pd
import pytest

from reprobook.mubench import chapter
from reprobook.mubench.ledger import world_results
from reprobook.mubench.tinyworld import (
    ATTRIBUTES,
    WorldConfig,
    build_world,
    permutation_null,
    relabelling_null,
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
    params = chapter.validate_parameters(profile="smoke", model="stub", b2_ratios=[0.7, 0.5], b2_shares=[0.2, 0.0],
                                         b2_controls=["no-anchor", "oracle"], b2_steps=100, b2_batch=16, b2_people=9,
                                         n_permutations=200, n_bootstrap=200, b2_seeds=[0, 1])
    assert params.world_keys() == [("en0.5-par0", 0), ("en0.5-par0", 1), ("en0.5-par0.2", 0), ("en0.5-par0.2", 1),
                                   ("en0.7-par0", 0), ("en0.7-par0", 1), ("en0.7-par0.2", 0), ("en0.7-par0.2", 1),
                                   ("oracle", 0), ("no-anchor", 0), ("no-anchor", 1)]
    configs = dict(zip(params.world_keys(), params.world_configs(), strict=True))
    assert (configs[("en0.7-par0.2", 1)].r_en, configs[("en0.7-par0.2", 1)].p_parallel) == (0.7, 0.2)
    assert not configs[("no-anchor", 1)].anchors and configs[("oracle", 0)].oracle
    assert all(config.stop_when_memorised and config.eval_every == chapter.B2_EVAL_EVERY for config in configs.values())
    keys = [("en0.5-par0", 0), ("en0.5-par0", 1), ("en0.5-par0.2", 0), ("en0.5-par0.2", 1), ("oracle", 0),
            ("no-anchor", 0)]
    results = {key: run_world(configs[key]) for key in keys}
    assert results[("en0.5-par0", 0)]["curve"].loss.iloc[-1] < 2.0
    assert all(result["steps_done"] <= 100 for result in results.values())
    metrics = world_results(results, n_permutations=200, n_bootstrap=200)
    assert metrics["m6_transfer_gain"].n == 2 and metrics["m6_seed_noise"].n == 2
    assert isinstance(metrics["b2_gate"].passed, bool) and not metrics["b2_m7_design"].passed


def test_training_stops_at_memorisation():
    config = WorldConfig(n_people=9, steps=400, batch=16, eval_every=25, stop_when_memorised=True)
    result = run_world(config)
    assert result["memorised"] and result["steps_done"] < 400
    assert result["curve"]["in_language"].iloc[-1] == 1.0


def test_no_anchor_world_has_no_person_in_both_languages():
    config = WorldConfig(n_people=13, anchors=False, batch=300)
    world = build_world(config)
    assert world.groups["both"] == [] and len(world.groups["en"]) + len(world.groups["zh"]) == 13
    batch = sample_batch(world, config, np.random.default_rng(3))
    zh_tokens = {int(t) for (lang, _), ids in world.value_tokens.items() if lang == "zh" for t in ids}
    facts = batch[:, 1:].reshape(-1, 4)
    seen_zh = {int(fact[0]) for fact in facts if int(fact[2]) in zh_tokens}
    seen_en = {int(fact[0]) for fact in facts if int(fact[2]) not in zh_tokens}
    assert seen_en and seen_zh and not seen_en & seen_zh
    with pytest.raises(ValueError, match="anchors=False"):
        WorldConfig(anchors=False, p_parallel=0.2)
    with pytest.raises(ValueError, match="r_en"):
        WorldConfig(r_en=1.0)


def test_shared_values_use_one_token_in_both_languages():
    world = build_world(WorldConfig(n_people=6, shared_values=True))
    separate = build_world(WorldConfig(n_people=6))
    for attribute in ("month", "country", "weekday"):
        assert (world.value_tokens[("en", attribute)] == world.value_tokens[("zh", attribute)]).all()
        assert not set(separate.value_tokens[("en", attribute)]) & set(separate.value_tokens[("zh", attribute)])
    assert len(separate.vocab) - len(world.vocab) == 12 + 20 + 7
    assert world.fact_tokens(0, 0, "en")[2] == world.fact_tokens(0, 0, "zh")[2]


def _no_knowledge_facts(rng: np.random.Generator) -> pd.DataFrame:
    """A model that memorised every seen fact but does not know the value dictionary: it answers a
    transfer question with a fixed, arbitrary relabelling of the true value (one per attribute and
    direction), as a network that maps "English March" to some Chinese month consistently would."""
    sizes = dict(zip(ATTRIBUTES, (12, 20, 7), strict=True))
    rows = []
    for attribute in ATTRIBUTES:
        mapping = {group: rng.permutation(sizes[attribute]) for group in ("en", "zh")}
        for person in range(30):
            group = ("en", "zh", "both")[person % 3]
            truth = int(rng.integers(sizes[attribute]))
            guess = int(mapping[group][truth]) if group != "both" else truth
            rows.append({"attribute": attribute, "group": group, "truth": truth,
                         "pred_en": guess if group == "zh" else truth, "pred_zh": guess if group == "en" else truth})
    return pd.DataFrame(rows)


def test_relabelling_null_is_calibrated_where_the_permutation_null_is_not():
    """Why the chance gate failed: a consistent but arbitrary value mapping clusters right answers
    (everyone born in a month the mapping happens to fix is right), which the prediction-permutation
    null treats as independent people. At the 1 % level it rejects about 5 % of such no-knowledge
    worlds; the relabelling null rejects 1 %."""
    rng = np.random.default_rng(0)
    trials, rejected = 200, {"permutation": 0, "relabelling": 0}
    for trial in range(trials):
        facts = _no_knowledge_facts(rng)
        observed = transfer_correct(facts).mean()
        for name, null in (("permutation", permutation_null), ("relabelling", relabelling_null)):
            rejected[name] += observed > np.quantile(null(facts, n_permutations=500, seed=trial), 0.99)
    assert rejected["permutation"] / trials > 0.03
    assert rejected["relabelling"] / trials <= 0.02


def test_relabelling_null_has_mean_one_over_k_and_sees_real_transfer():
    facts = _no_knowledge_facts(np.random.default_rng(1))
    assert relabelling_null(facts, n_permutations=4000).mean() == pytest.approx((1 / 12 + 1 / 20 + 1 / 7) / 3, abs=0.01)
    knowing = facts.assign(pred_en=facts.truth, pred_zh=facts.truth)
    assert transfer_correct(knowing).mean() > np.quantile(relabelling_null(knowing, n_permutations=500), 0.99)


def test_no_anchor_run_stays_inside_its_chance_bracket():
    result = run_world(WorldConfig(n_people=30, seed=0, anchors=False, stop_when_memorised=True, eval_every=25))
    assert result["memorised"] and result["steps_done"] < 800
    null = relabelling_null(result["facts"], n_permutations=2000)
    assert transfer_correct(result["facts"]).mean() <= np.quantile(null, 0.99)
