"""Every chapter's ledger follows the claims design: results prose is generated, never typed, and
each chapter has a null-world test (a world without the claimed effects yields no "reproduced")."""

from pathlib import Path

import pytest

from reprobook.claims import typed_result_prose
from reprobook.project import CHAPTERS

ROOT = Path(__file__).resolve().parents[1]
SLUGS = [chapter.slug for chapter in CHAPTERS if (ROOT / "notebooks" / f"{chapter.slug}.md").exists()]


@pytest.mark.parametrize("slug", SLUGS)
def test_no_result_or_verdict_is_typed_after_the_first_experiment(slug):
    problems = typed_result_prose(ROOT / "notebooks" / f"{slug}.md")
    assert not problems, "typed result prose (generate it from the results):\n" + "\n".join(problems)


@pytest.mark.parametrize("slug", SLUGS)
def test_each_chapter_has_a_null_world_test(slug):
    path = ROOT / "tests" / slug / f"test_{slug}_null_world.py"
    assert path.exists(), f"missing {path.relative_to(ROOT)}"
    source = path.read_text(encoding="utf-8")
    assert "def test_" in source and "REPRODUCED" in source, f"{path.name} must assert on the verdicts"
