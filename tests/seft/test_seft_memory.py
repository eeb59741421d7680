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
