"""Validation of user-set parameters at the boundary, with messages that name the parameter.

Each chapter's subpackage validates its notebook parameters with these checks in one call,
``reprobook.<slug>.chapter.validate_parameters(**parameters)``, which the book's runner also calls
before papermill starts, so a typo or an out-of-range value stops the run with a clear message
rather than a traceback from deep inside, and before any compute. Size parameters (steps, samples,
lengths, workers) carry a maximum: :func:`check_size` with one maximum per profile, and
:func:`check_jobs` for worker processes.

>>> check_int("window", 75, minimum=3)
75
>>> check_choice("weighting", "uniform", ["default", "uniform"])
'uniform'
>>> check_int("window", -1, minimum=3)
Traceback (most recent call last):
...
reprobook.params.ParameterError: parameter 'window' must be an integer >= 3, got -1
>>> check_size("steps", 10**15, profile="book", maxima={"smoke": 1_000, "book": 100_000, "paper": 10**8})
Traceback (most recent call last):
...
reprobook.params.ParameterError: parameter 'steps' must be an integer in [1, 100000] at the book profile (maxima: smoke 1000, book 100000, paper 100000000), got 1000000000000000
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

__all__ = [
    "PROFILES",
    "ParameterError",
    "check_int",
    "check_float",
    "check_bool",
    "check_choice",
    "check_subset",
    "check_int_list",
    "check_known",
    "check_size",
    "check_jobs",
    "MAX_WORKERS",
]


#: The run sizes every chapter knows: CI-sized, the rendered book, the paper's scale.
PROFILES = ("smoke", "book", "paper")


#: The most worker processes a chapter's ``jobs`` parameter may ask for (:func:`check_jobs`).
MAX_WORKERS = 256


class ParameterError(ValueError):
    """A user-set parameter has a wrong name, type or value."""


def _range_text(minimum: float | None, maximum: float | None) -> str:
    if minimum is not None and maximum is not None:
        return f" in [{minimum}, {maximum}]"
    if minimum is not None:
        return f" >= {minimum}"
    if maximum is not None:
        return f" <= {maximum}"
    return ""


def check_int(name: str, value: Any, *, minimum: int | None = None, maximum: int | None = None) -> int:
    """An integer (not a bool, not a float) within the optional bounds."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise ParameterError(
            f"parameter {name!r} must be an integer{_range_text(minimum, maximum)}, got {value!r}"
        )
    if (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
        raise ParameterError(
            f"parameter {name!r} must be an integer{_range_text(minimum, maximum)}, got {value!r}"
        )
    return value


def check_float(
    name: str, value: Any, *, minimum: float | None = None, maximum: float | None = None
) -> float:
    """A finite real number (ints accepted) within the optional bounds."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ParameterError(
            f"parameter {name!r} must be a finite number{_range_text(minimum, maximum)}, got {value!r}"
        )
    if (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
        raise ParameterError(
            f"parameter {name!r} must be a number{_range_text(minimum, maximum)}, got {value!r}"
        )
    return float(value)


def check_bool(name: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise ParameterError(f"parameter {name!r} must be True or False, got {value!r}")
    return value


def check_choice(name: str, value: Any, allowed: Iterable[str]) -> str:
    """One of the allowed strings."""
    allowed = list(allowed)
    if value not in allowed:
        raise ParameterError(
            f"parameter {name!r} must be one of {', '.join(map(repr, allowed))}; got {value!r}"
        )
    return value


def check_subset(name: str, values: Any, allowed: Iterable[str], *, min_size: int = 1) -> list[str]:
    """A list of distinct allowed strings, at least ``min_size`` long."""
    allowed = list(allowed)
    if isinstance(values, str) or not isinstance(values, Sequence):
        raise ParameterError(
            f"parameter {name!r} must be a list drawn from {', '.join(map(repr, allowed))}; got {values!r}"
        )
    unknown = [value for value in values if value not in allowed]
    if unknown:
        raise ParameterError(
            f"parameter {name!r} has unknown entries {unknown!r}; allowed: {', '.join(map(repr, allowed))}"
        )
    if len(set(values)) != len(values):
        raise ParameterError(f"parameter {name!r} lists an entry twice: {list(values)!r}")
    if len(values) < min_size:
        raise ParameterError(f"parameter {name!r} needs at least {min_size} entries, got {list(values)!r}")
    return list(values)


def check_int_list(
    name: str, values: Any, *, minimum: int | None = None, maximum: int | None = None, min_size: int = 1
) -> list[int]:
    """A non-empty list of distinct integers within the optional bounds (e.g. seeds)."""
    if isinstance(values, str) or not isinstance(values, Sequence) or len(values) < min_size:
        raise ParameterError(
            f"parameter {name!r} must be a list of at least {min_size} integers, got {values!r}"
        )
    checked = [check_int(f"{name}[{index}]", value, minimum=minimum, maximum=maximum)
               for index, value in enumerate(values)]
    if len(set(checked)) != len(checked):
        raise ParameterError(f"parameter {name!r} lists a value twice: {checked!r}")
    return checked


def check_known(given: Mapping[str, Any], allowed: Iterable[str], *, where: str = "") -> None:
    """Every key of ``given`` is an allowed parameter name."""
    allowed = sorted(allowed)
    unknown = sorted(set(given) - set(allowed))
    if unknown:
        place = f" for {where}" if where else ""
        raise ParameterError(
            f"unknown parameter(s) {', '.join(map(repr, unknown))}{place}; "
            f"allowed parameters are: {', '.join(allowed)}"
        )


def check_size(
    name: str, value: Any, *, profile: str, maxima: Mapping[str, int], minimum: int = 1
) -> int:
    """A size (steps, samples, a length) within ``[minimum, maxima[profile]]``.

    ``maxima`` gives the documented maximum of each profile; the message names the profile's range
    and the other profiles' maxima, so a user sees where a larger value is allowed.
    """
    if profile not in maxima:
        raise ParameterError(f"parameter {name!r} has no maximum for profile {profile!r}; "
                             f"profiles with one: {', '.join(maxima)}")
    maximum = maxima[profile]
    if isinstance(value, bool) or not isinstance(value, int) or not minimum <= value <= maximum:
        listed = ", ".join(f"{key} {limit}" for key, limit in maxima.items())
        raise ParameterError(
            f"parameter {name!r} must be an integer in [{minimum}, {maximum}] at the {profile} profile "
            f"(maxima: {listed}), got {value!r}"
        )
    return value


def check_jobs(name: str, value: Any) -> int:
    """A number of worker processes: an integer in ``[1, MAX_WORKERS]``.

    >>> check_jobs("jobs", 2)
    2
    """
    return check_int(name, value, minimum=1, maximum=MAX_WORKERS)
