import pytest

from reprobook.devices import check_device, describe_device, jax_platform, torch_device
from reprobook.params import ParameterError


def test_device_choices_are_validated():
    assert check_device("auto") == "auto"
    with pytest.raises(ParameterError, match="'auto', 'cpu', 'cuda'"):
        check_device("gpu")


def test_auto_falls_back_to_cpu_and_cuda_is_refused_without_a_gpu():
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has a CUDA GPU")
    assert torch_device("auto") == "cpu"
    assert describe_device("auto") == "cpu"
    with pytest.raises(ParameterError, match="no CUDA GPU"):
        torch_device("cuda")
    assert jax_platform("auto") == "cpu"
    with pytest.raises(ParameterError, match="JAX sees no GPU"):
        jax_platform("cuda")
