"""Shared fixtures of the SafeTutors tests (the data mirror is set by the suite's top-level conftest)."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def control_runs():
    """The four controls over all 48 sub-risks per subject, 4 dialogues per subject."""
    from reprobook.safetutors.experiments import ItemSetConfig, TutorConfig, run_tutor

    items = ItemSetConfig(subrisks="all", max_dialogues_per_subject=4, seed=3)
    return {kind: run_tutor(TutorConfig(tutor=kind, items=items)).replies
            for kind in ("socratic", "answer_dumper", "sycophant", "drifter")}
