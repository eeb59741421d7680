"""The public functions' docstring examples run as tests."""

import doctest
import importlib

import pytest

MODULES = ["taxonomy", "problems", "students", "tutors", "judges", "metrics", "mrbench", "userdata",
           "chapter", "labels", "ledger"]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    module = importlib.import_module(f"reprobook.safetutors.{name}")
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0 and result.failed == 0
