"""The allocator meter behind claims S8 and S11 sees real allocations, including transient ones."""

import pytest
import torch

from reprobook.seft.memory import PeakMemory, allocated_bytes

pytestmark = pytest.mark.skipif(allocated_bytes() < 0, reason="no glibc mallinfo2 on this platform")


def test_allocated_bytes_follow_a_large_tensor():
    before = allocated_bytes()
    block = torch.ones(4_000_000)  # 16 MB
    during = allocated_bytes()
    del block
    after = allocated_bytes()
    assert during - before >= 15_000_000
    assert during - after >= 15_000_000


def test_peak_memory_sees_a_transient_intermediate():
    x = torch.ones(1_000_000)
    base = allocated_bytes()
    with PeakMemory() as meter:
        y = (x.repeat(8) * 2.0).sum()  # an 8M-float intermediate, freed before the block ends
    assert float(y) == 16_000_000.0
    assert meter.peak - base >= 30_000_000


def test_s11_note_quotes_the_benchmark_record_of_the_same_step(tmp_path, monkeypatch):
    import json

    from reprobook.seft.chapter import validate_parameters
    from reprobook.seft.memory import S11_CANDIDATE, s11_record_note, training_step_hot_path

    params = validate_parameters(profile="book")
    monkeypatch.setenv("REPROBOOK_BENCH_RECORDS", str(tmp_path))
    assert "no `make bench` record" in s11_record_note(params)
    machine = {"cores": 2, "cpu": "test", "load_average": [1.0, 1.0, 1.0]}
    candidate = {"ratio": 1.25, "ratio_low": 1.1, "ratio_high": 1.4}
    record = {"slug": "seft", "comparisons": [{
        "name": training_step_hot_path(params), "reference": "dense", "unit": "steps", "rounds": 5,
        "started": "2026-01-01T00:00:00+00:00", "machine_start": machine,
        "candidates": {"dense": {"ratio": 1.0, "ratio_low": 1.0, "ratio_high": 1.0}, S11_CANDIDATE: candidate}}]}
    (tmp_path / "seft.json").write_text(json.dumps(record), encoding="utf-8")
    note = s11_record_note(params)
    assert f"{S11_CANDIDATE} at 1.25× [1.1, 1.4] the speed of dense (5 interleaved rounds, 2026-01-01" in note
