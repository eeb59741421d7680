"""The ``device`` parameter of torch and JAX chapters: ``auto`` uses a GPU when one is present.

>>> check_device("cpu")
'cpu'
>>> torch_device("cpu")
'cpu'
>>> check_device("tpu")
Traceback (most recent call last):
...
reprobook.params.ParameterError: parameter 'device' must be one of 'auto', 'cpu', 'cuda'; got 'tpu'
"""

from __future__ import annotations

from reprobook.params import ParameterError, check_choice

__all__ = ["DEVICES", "check_device", "torch_device", "jax_platform", "describe_device"]

DEVICES = ("auto", "cpu", "cuda")


def check_device(value: object, name: str = "device") -> str:
    """Validate a device parameter: one of ``auto``, ``cpu``, ``cuda``."""
    return check_choice(name, value, DEVICES)


def torch_device(device: str = "auto") -> str:
    """The torch device to use: ``cuda`` when asked for (or ``auto`` and available), else ``cpu``.

    Asking for ``cuda`` on a machine without one is refused with a message, not a deep error.
    """
    device = check_device(device)
    if device == "cpu":
        return "cpu"
    import torch

    available = torch.cuda.is_available()
    if device == "cuda" and not available:
        raise ParameterError("parameter 'device' is 'cuda' but torch sees no CUDA GPU here; use 'auto' or 'cpu'")
    return "cuda" if available else "cpu"


def jax_platform(device: str = "auto") -> str:
    """The JAX platform to use (``gpu`` or ``cpu``) for a device parameter."""
    device = check_device(device)
    if device == "cpu":
        return "cpu"
    import jax

    has_gpu = any(d.platform == "gpu" for d in jax.devices()) if _jax_has_backend("gpu") else False
    if device == "cuda" and not has_gpu:
        raise ParameterError("parameter 'device' is 'cuda' but JAX sees no GPU here (install the 'cuda' extra); "
                             "use 'auto' or 'cpu'")
    return "gpu" if has_gpu else "cpu"


def _jax_has_backend(name: str) -> bool:
    import jax

    try:
        jax.devices(name)
    except RuntimeError:
        return False
    return True


def describe_device(device: str = "auto") -> str:
    """A short name of the accelerator that ``device`` resolves to, for the chapter's run record."""
    resolved = torch_device(device)
    if resolved == "cuda":
        import torch

        return f"cuda ({torch.cuda.get_device_name(0)})"
    return "cpu"
