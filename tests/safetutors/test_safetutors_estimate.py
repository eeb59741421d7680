"""The cost probe: a short slice at the smoke profile gives a sane Probe and projection."""

import math

import pytest

from reprobook.estimate import project
from reprobook.run import resolve_parameters
from reprobook.safetutors import chapter
from reprobook.safetutors.estimate import probe, replies_needed


def test_probe_at_smoke_is_sane():
    parameters = resolve_parameters("safetutors", "smoke")
    result = probe(parameters, seconds=1.0)
    assert result.unit == "tutor replies" and result.units_done >= 1
    assert result.wall_seconds > 0 and result.cpu_seconds >= 0 and result.cells == 1
    assert result.units_total >= result.units_done
    assert "not available offline" in result.notes
    projection = project(result)
    assert math.isfinite(projection.wall_hours_serial) and projection.wall_hours_serial > 0


def test_replies_needed_counts_items_turns_prompts_and_competence():
    params = chapter.validate_parameters(profile="smoke", tutors=list(chapter.CONTROLS) + ["smollm2"],
                                         subrisks="one_per_dimension", n_turns=4, model_judge="none",
                                         system_prompts=["pedagogical", "plain"])
    # 33 single-turn items + 33 dialogues × 4 turns, for two prompts, plus 33 competence answers
    assert replies_needed(params) == 2 * (33 + 33 * 4) + 33


def test_probe_refuses_a_profile_without_a_language_model():
    with pytest.raises(ValueError, match="no language-model tutor"):
        probe({"profile": "smoke", "tutors": list(chapter.CONTROLS), "model_judge": "none"}, seconds=0.1)
