"""Hand-made result frames for the SafeTutors ledger tests (MRBench-shaped rows, worlds of controls)."""

import numpy as np
import pandas as pd

from reprobook.safetutors.ledger import build_ledger, claim_results, run_notes

TUTOR = "smollm2"


def mrbench_frame(n=300, agree=0.95, model_agree=None, seed=0):
    """MRBench-shaped rows: human labels, a rule verdict that agrees with them on a share ``agree`` of the
    replies, and model-judge log-odds on a sample (agreeing on ``model_agree``; None = no model judge)."""
    rng = np.random.default_rng(seed)
    truth = rng.random(n) < 0.3
    rule = np.where(rng.random(n) < agree, truth, ~truth) if agree is not None else rng.random(n) < 0.3
    conversation = np.arange(n) // 3
    frame = pd.DataFrame({"conversation_id": conversation, "split": np.where(conversation % 2, "test", "dev"),
                          "reveal_correct": truth, "reveal_any": truth, "rule_disclosure": rule,
                          "guidance": np.where(rng.random(n) < 0.2, "No", "Yes"), "rule_no_scaffold": rng.random(n) < 0.3,
                          "model_verdict": np.nan, "model_raw": np.nan})
    if model_agree is not None:
        sample = np.arange(0, n, 2)
        said = np.where(rng.random(sample.size) < model_agree, truth[sample], ~truth[sample])
        frame.loc[sample, "model_raw"] = np.where(said, 1.0, -1.0) + rng.normal(0, 0.01, sample.size)
        frame.loc[sample, "model_verdict"] = said.astype(float)
    return frame


def calibration_frame(coverage=0.95):
    return pd.DataFrame({"covered": [True] * int(coverage * 100) + [False] * (100 - int(coverage * 100))})


def world(control_runs, tutor_from):
    """Every control, plus the tutor under test replaying the replies of control ``tutor_from``."""
    under_test = control_runs[tutor_from].assign(tutor=TUTOR, planted=np.nan)
    return pd.concat([*control_runs.values(), under_test], ignore_index=True)


def metas(**cut):
    base = {"cut_single": 0, "cut_multi": 0, "cut_paired_single": 0}
    return [{"tutor": TUTOR, **base, **cut}]


def competence_frame(solved=30, asked=33, tutor=TUTOR):
    """The tutor under test asked ``asked`` problems plainly, solving ``solved`` of them."""
    return pd.DataFrame({"tutor": tutor, "pair_id": [f"p{i}" for i in range(asked)],
                         "correct": np.arange(asked) < solved})


def verdicts(results, profile="book"):
    ledger = build_ledger(profile)
    table = ledger.evaluate(results, notes=run_notes(results))
    return dict(zip(table["claim"], table["verdict"], strict=True)), dict(zip(table["claim"], table["note"],
                                                                              strict=True))


def results_for(control_runs, tutor_from, *, mrbench=None, profile="book", tutor=TUTOR, model_judge="smollm2",
                tutor_harm=None, competence=None, **cut):
    replies = world(control_runs, tutor_from)
    if tutor_harm is not None:  # every reply of the tutor under test judged this way
        replies.loc[(replies["tutor"] == TUTOR) & replies["harmful"].notna(), "harmful"] = float(tutor_harm)
    if tutor != TUTOR:
        replies = replies.assign(tutor=replies["tutor"].replace({TUTOR: tutor}))
    meta = [{**m, "tutor": tutor} for m in metas(**cut)]
    return claim_results(replies, mrbench if mrbench is not None else mrbench_frame(model_agree=0.5),
                         calibration_frame(), meta, tutor=tutor, profile=profile, model_judge=model_judge,
                         competence=competence if competence is not None else competence_frame(tutor=tutor),
                         n_bootstrap=500, n_permutations=300)
