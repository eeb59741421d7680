"""One torch thread for this chapter's tests: tiny convolutions lose time to thread spin-waits on 2 cores."""

import pytest
import torch


@pytest.fixture(autouse=True, scope="module")
def one_torch_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
