"""The scoring benchmark counts each scored token once (the prompt is not counted once per option)."""

import importlib.util
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench" / "mubench.py"


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("mubench_bench", BENCH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_scored_tokens_count_the_shared_prompt_once(bench):
    # one prompt of 10 tokens continued by four options of 2 tokens: 10 + 8 positions are scored
    assert bench.scored_tokens([10], [2, 2, 2, 2]) == 18
    # the inflated count (prompt once per option) would be 4 · 10 + 8 = 48
    assert bench.scored_tokens([10], [2, 2, 2, 2]) != 4 * 10 + 8
    assert bench.scored_tokens([5, 3], [1, 2, 2]) == 5 + 3 + 2 * 5
    assert bench.scored_tokens([], [1, 2]) == 0
