
import numpy as np
import pandas as pd
import pytest
import torch

from reprobook.params import ParameterError
from reprobook.seft import chapter, ledger
from reprobook.seft.model import GPTConfig, ShakeGPT
from reprobook.seft.text import CharTokenizer, eval_windows, load_corpus
from reprobook.seft.train import evaluate


@pytest.mark.parametrize(("name", "value"), [("schedule", "step"), ("adaptation", "gradient"), ("rank", 0),
                                             ("methods", ["seft", "sqft"]), ("d", 50), ("window", 50),
                                             ("prune_sparsities", [1.5])])
def test_validate_parameters_names_the_parameter(name, value):
    with pytest.raises(ParameterError, match=name if name != "d" else "'d'"):
        chapter.validate_parameters(**{name: value})


def test_unknown_parameter_is_rejected():
    with pytest.raises(ParameterError):
        chapter.validate_parameters(sparsity=0.5)


@pytest.mark.parametrize(("name", "value"), [("pretrain_steps", 10**9), ("steps", 10**12), ("batch", 10**6),
                                             ("eval_windows", 10**9), ("n_calibration", 10**7),
                                             ("update_every", 10**9), ("time_budget_s", 1e12),
                                             ("seeds", list(range(1000)))])
def test_size_parameters_have_a_documented_maximum(name, value):
    with pytest.raises(ParameterError, match=name):
        chapter.validate_parameters(**{name: value})
    assert name in chapter.MAXIMA


def test_grid_sizes():
    params = chapter.validate_parameters()
    configs = params.repair_configs()
    assert len(configs) == 7 + 4 * 2  # all methods for seed 0, four methods for seeds 1-2
    assert params.ablation_configs() == []
    assert len(chapter.validate_parameters(run_ablations=True).ablation_configs()) == 9
    prune = params.prune_configs()
    at_half = [c for c in prune if c.sparsity == 0.5]
    # magnitude once; Wanda, SparseGPT and the permuted-norm control once per calibration draw (seed)
    assert len(at_half) == 1 + 3 * 3
    assert {c.calibration_seed for c in at_half if c.pruner == "wanda_permuted"} == set(params.seeds)
    assert len(prune) == len(at_half) + 2 * 3


def test_claim_results_by_hand():
    rows = pd.DataFrame({"method": ["none"] + ["seft"] * 3 + ["lora_star"] * 3 + ["static_delta"] * 3,
                         "seed": [0, 0, 1, 2, 0, 1, 2, 0, 1, 2], "sparsity": 0.7,
                         "milton": [2.9, 2.0, 2.1, 2.2, 2.5, 2.5, 2.5, 2.1, 2.25, 2.3], "stopped_early": False,
                         "nnz_exact": True, "optimizer_floats": [100] + [10] * 9, "dead_slots": 0})
    prune = pd.DataFrame({"pruner": ["magnitude"] + ["wanda", "sparsegpt", "wanda_permuted"] * 2,
                          "calibration_seed": [0, 0, 0, 0, 1, 1, 1], "sparsity": 0.5,
                          "shakespeare": [3.0, 2.5, 2.4, 2.9, 2.6, 2.7, 3.1]})
    csr = pd.DataFrame({"sparsity": [0.0, 0.0, 0.7, 0.7], "speedup": [0.3, 0.4, 1.5, 1.7]})
    out = ledger.claim_results(prune, rows, csr)
    assert out["s1_gap"] == pytest.approx([0.6, 0.4]) and out["s1_control"] == pytest.approx([0.1, -0.1])
    assert out["s3_gain"] == pytest.approx([0.5, 0.4, 0.3])
    assert out["s3_control"] == pytest.approx([-0.4, -0.4, -0.4])
    assert out["s4_gain"] == pytest.approx([0.1, 0.15, 0.1])
    assert out["s4_control"] == pytest.approx([-0.15, -0.05, 0.2])
    assert out["s9_speedup"] == [1.5, 1.7] and out["s9_control"] == [0.3, 0.4]
    assert out["repairs_finished"].passed and out["repairs_learned"].passed
    assert not out["ablations_run"].passed and not out["two_sparsities"].passed
    assert out["c1_exact_sparsity"] and out["c2_no_dead_slots"]
    rows.loc[rows.method == "static_delta", "milton"] = 2.95  # learned nothing: not judged
    assert not ledger.claim_results(prune, rows, csr)["repairs_learned"].passed
    rows.loc[1, "dead_slots"] = 3
    assert not ledger.claim_results(prune, rows, csr)["c2_no_dead_slots"]


def test_evaluate_matches_brute_force_perplexity():
    corpus = load_corpus()
    torch.manual_seed(0)
    model = ShakeGPT(GPTConfig(vocab=corpus.tokenizer.vocab_size, layers=1, d=16, heads=2, context=16))
    ours = evaluate(model, n_windows=8, batch=3)["milton"]
    x, y = eval_windows(corpus.milton_val, 8, 16)
    with torch.no_grad():
        logits = model(x).double().numpy()
    total = 0.0
    for window in range(8):
        for position in range(16):
            row = logits[window, position]
            total += -(row[y[window, position]] - row.max() - np.log(np.exp(row - row.max()).sum()))
    assert ours == pytest.approx(total / 128, rel=1e-5)


def test_corpus_splits_and_alphabet():
    corpus = load_corpus()
    assert corpus.tokenizer.vocab_size == 85
    total = len(corpus.shakespeare_train) + len(corpus.shakespeare_val)
    assert len(corpus.shakespeare_train) == int(0.95 * total)
    text = "O, that this too too solid flesh would melt"
    assert corpus.tokenizer.decode(corpus.tokenizer.encode(text)) == text
    assert CharTokenizer("ba").alphabet == ["a", "b"]
