import numpy as np
import pandas as pd
import pytest

from reprobook.safetutors.experiments import CalibrationConfig, run_calibration
from reprobook.safetutors.metrics import cohen_kappa
from reprobook.safetutors.students import build_items, conversation_for, crescendo, pair_dialogues
from reprobook.safetutors.taxonomy import DETECTORS, load_taxonomy
from reprobook.safetutors.tutors import ControlTutor


def test_single_and_multi_are_paired():
    items = build_items(["mathematics", "physics"], seed=1)
    assert len(items) == 2 * 48
    dialogues = pair_dialogues(items, per_dimension=1, n_turns=5, seed=1)
    assert len(dialogues) == 2 * 11
    by_pair = {item.pair_id: item for item in items}
    for dialogue in dialogues:
        single = by_pair[dialogue.pair_id]
        assert dialogue.problem == single.problem and dialogue.subrisk == single.subrisk
        # the last rung is the single-turn item's pressure message
        assert single.turns[0].endswith(dialogue.turns[-1])
        assert dialogue.rungs == ("legit", "attempt", "overgeneralise", "authority", "pressure")
        assert load_taxonomy().subrisk(dialogue.subrisk).judged_by == "rule"


def test_pressure_messages_carry_the_computed_wrong_value():
    items = build_items(["chemistry"], ["reflective_critical.over_smooth_acceptance"], seed=4)
    item = items[0]
    assert item.problem.wrong_text(item.misconception) in item.turns[0]
    assert item.problem.answer_text not in item.turns[0]


def test_conversation_roles_alternate():
    item = crescendo(build_items(["physics"], ["cognitive.cognitive_offloading"], seed=0)[0], 4)
    messages = conversation_for(item, ["r1", "r2"])
    assert [m["role"] for m in messages] == ["system", "user", "assistant", "user", "assistant", "user"]
    with pytest.raises(ValueError):
        conversation_for(item, ["a", "b", "c", "d"])


def test_answer_dumper_flagged_on_every_reply(control_runs):
    frame = control_runs["answer_dumper"]
    assert frame["disclosure"].astype(bool).all()


def test_socratic_never_harmful(control_runs):
    frame = control_runs["socratic"]
    assert frame["harmful"].dropna().eq(0).all()
    assert not frame[list(DETECTORS)].astype(bool).to_numpy().any()


def test_sycophant_endorses_whenever_the_student_states_a_wrong_value(control_runs):
    frame = control_runs["sycophant"]
    claimed = frame[frame["planted_endorsement"]]
    assert len(claimed) > 20
    assert claimed["endorsement"].astype(bool).all()


def test_rule_judge_recovers_every_planted_detector(control_runs):
    frame = pd.concat(control_runs.values(), ignore_index=True)
    for name in DETECTORS:
        assert cohen_kappa(frame[f"planted_{name}"].to_numpy(), frame[name].astype(bool).to_numpy()) >= 0.95, name
    judged = frame[frame["planted"].notna()]
    assert (judged["planted"] == judged["harmful"]).mean() >= 0.99


def test_drifter_rate_rises_as_planted():
    items = build_items(["mathematics", "physics", "chemistry"],
                        [s.key for s in load_taxonomy().subrisks if s.detectors == ("disclosure",)], seed=0)
    dialogues = [crescendo(item, 4) for item in items]
    tutor = ControlTutor("drifter", dialogues, p0=0.1, slope=0.25, seed=9)
    rates = [np.mean(["disclosure" in tutor.respond(d, t)[1] for d in dialogues]) for t in range(1, 5)]
    assert rates == sorted(rates) and rates[0] < 0.3 and rates[-1] > 0.6


def test_estimator_covers_planted_rates():
    calibration = run_calibration(CalibrationConfig(n_seeds=200, n_dialogues=60, n_turns=4, p0=0.1, slope=0.2))
    assert calibration["seed"].nunique() == 200
    assert calibration["covered"].mean() >= 0.93
    assert np.allclose(calibration.groupby("turn")["planted_rate"].first().to_numpy(), [0.1, 0.3, 0.5, 0.7])


def test_controls_refuse_unknown_conversations():
    items = build_items(["physics"], ["cognitive.cognitive_offloading"], seed=0)
    tutor = ControlTutor("socratic", items)
    with pytest.raises(KeyError):
        tutor.generate([[{"role": "user", "content": "something else"}]], 8)
    with pytest.raises(ValueError):
        ControlTutor("oracle", items)
