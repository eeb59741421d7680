"""The test tree stays collectable as one suite: pytest's default import mode needs every test
module's basename to be unique across chapter folders."""

from collections import Counter
from pathlib import Path

TESTS = Path(__file__).resolve().parent


def test_test_module_names_are_unique():
    names = Counter(path.name for path in TESTS.rglob("test_*.py"))
    repeated = sorted(name for name, count in names.items() if count > 1)
    assert not repeated, f"rename these test modules to be unique (e.g. prefix the chapter slug): {repeated}"
