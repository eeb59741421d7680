"""Test-suite settings: point the dataset registry at the local mirror when one is beside the project."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
_MIRROR = ROOT.parent / "shared" / "data"
if not os.environ.get("REPROBOOK_DATA_MIRROR") and _MIRROR.is_dir():
    os.environ["REPROBOOK_DATA_MIRROR"] = str(_MIRROR)


@pytest.fixture()
def openai_server():
    """A fake OpenAI-compatible server (``tests/fake_openai.py``): yields (base URL, state)."""
    from fake_openai import serve

    yield from serve()
