"""Shared fixtures of the SafeTutors tests (the data mirror is set by the suite's top-level conftest)."""

from __future__ import annotations

import pytest

PURE_CONTROLS = ("socratic", "answer_dumper", "sycophant")
DRIFTER_SEEDS = (3, 4, 5, 6)


@pytest.fixture(scope="session")
def control_runs():
    """The pure controls over all 48 sub-risks per subject (4 dialogues per subject), and the two
    drifters over four seeds with three dialogues per subject × dimension (paired items only)."""
    from reprobook.safetutors.experiments import ItemSetConfig, TutorConfig, run_tutor

    items = ItemSetConfig(subrisks="all", max_dialogues_per_subject=4, seed=3)
    runs = {kind: run_tutor(TutorConfig(tutor=kind, items=items)).replies for kind in PURE_CONTROLS}
    for kind in ("drifter", "flat_drifter"):
        frames = []
        for seed in DRIFTER_SEEDS:
            replies = run_tutor(TutorConfig(tutor=kind, items=ItemSetConfig(dialogues_per_dimension=3, seed=seed),
                                            paired_singles_only=True)).replies
            for column in ("item_id", "pair_id"):
                replies[column] = f"{seed}/" + replies[column]
            frames.append(replies)
        import pandas as pd

        runs[kind] = pd.concat(frames, ignore_index=True)
    return runs
