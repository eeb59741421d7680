import math

import numpy as np
import pandas as pd
import pytest
import torch

from reprobook.params import ParameterError
from reprobook.seft import chapter
from reprobook.seft.model import GPTConfig, ShakeGPT
from reprobook.seft.text import CharTokenizer, eval_windows, load_corpus
from reprobook.seft.train import evaluate


@pytest.mark.parametrize(("name", "value"), [("schedule", "step"), ("adaptation", "gradient"), ("rank", 0),
                                             ("methods", ["seft", "spp"]), ("d", 50), ("window", 50),
                                             ("prune_sparsities", [1.5])])
def test_validate_parameters_names_the_parameter(name, value):
    with pytest.raises(ParameterError, match=name if name != "d" else "'d'"):
        chapter.validate_parameters(**{name: value})


def test_unknown_parameter_is_rejected():
    with pytest.raises(ParameterError):
        chapter.validate_parameters(sparsity=0.5)


def test_grid_sizes():
    params = chapter.validate_parameters()
    configs = params.repair_configs()
    assert len(configs) == 6 + 2 * 3  # all methods for seed 0, three methods for seeds 1 and 2
    assert params.ablation_configs() == []
    assert len(chapter.validate_parameters(run_ablations=True).ablation_configs()) == 9


def test_margins_by_hand():
    rows = pd.DataFrame({"method": ["seft"] * 3 + ["lora_star"] * 3 + ["static_delta"] * 3, "sparsity": 0.7,
                         "milton": [2.0, 2.1, 2.2, 2.5, 2.5, 2.5, 2.1, 2.2, 2.3], "stopped_early": False,
                         "nnz_exact": True, "optimizer_floats": [10] * 9})
    prune = pd.DataFrame({"pruner": ["magnitude", "wanda", "sparsegpt"], "sparsity": 0.5,
                          "shakespeare": [3.0, 2.5, 2.4]})
    csr = pd.DataFrame({"sparsity": [0.9], "speedup": [1.5]})
    out = chapter.headline_metrics(prune, rows, csr)
    assert out["s1_magnitude_gap"] == pytest.approx(0.5)
    assert out["s3_margin_vs_lora_star"] == pytest.approx(0.4 - 2 * 0.1)
    assert out["s4_margin_vs_static_delta"] == pytest.approx(0.1 - 2 * 0.1)
    assert out["s2_nnz_exact"] == 1.0 and out["s9_csr_speedup"] == 1.5
    assert math.isnan(chapter.headline_metrics(prune, rows[rows.index % 3 == 0], csr)["s3_margin_vs_lora_star"])


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
