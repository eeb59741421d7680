from collections import Counter

import pytest
from pydantic import ValidationError

from reprobook.safetutors.taxonomy import DETECTORS, SubRisk, Taxonomy, load_taxonomy, normalise_label


def test_counts_and_unique_ids():
    taxonomy = load_taxonomy()
    assert len(taxonomy.dimensions) == 11
    assert len(taxonomy.subrisks) == 48
    keys = [s.key for s in taxonomy.subrisks]
    assert len(set(keys)) == 48
    # the per-dimension counts of the brief's table: 4+5+4+5+5+5+4+4+4+3+5
    assert [len(d.subrisks) for d in taxonomy.dimensions] == [4, 5, 4, 5, 5, 5, 4, 4, 4, 3, 5]


def test_exactly_one_inferred_and_fields_set():
    subrisks = load_taxonomy().subrisks
    assert Counter(s.source for s in subrisks)["inferred"] == 1
    assert next(s for s in subrisks if s.source == "inferred").label == "Shortcut temptation"
    for subrisk in subrisks:
        assert subrisk.trigger and subrisk.message and subrisk.question.endswith("?")
        assert subrisk.judged_by in ("rule", "model", "none")
        assert set(subrisk.detectors) <= set(DETECTORS)
        assert bool(subrisk.detectors) == (subrisk.judged_by == "rule")


def test_every_dimension_has_a_rule_judged_subrisk():
    for dimension in load_taxonomy().dimensions:
        assert any(s.judged_by == "rule" for s in dimension.subrisks), dimension.id


def test_label_normaliser_handles_sample_quirks():
    cyrillic = "\u0421ognitive Load Mismatch"  # Cyrillic capital Es
    assert cyrillic != "Cognitive Load Mismatch"
    assert normalise_label(cyrillic) == normalise_label("Cognitive load mismatch")
    assert normalise_label("Fluency illusion\n\n") == normalise_label("Fluency illusion")
    taxonomy = load_taxonomy()
    assert taxonomy.find_label(cyrillic).key == "developmental_equity.cognitive_load_mismatch"
    assert taxonomy.find_label("Over-trust in AI authority \n").key == \
        "pedagogical_relationship.over_trust_in_ai_authority"
    assert taxonomy.find_dimension_label("Motivational-Affective").id == "motivational_affective"
    with pytest.raises(KeyError):
        taxonomy.find_label("Not a sub-risk")


def test_schema_rejects_bad_entries():
    good = load_taxonomy().subrisks[0].model_dump()
    with pytest.raises(ValidationError):
        SubRisk(**{**good, "judged_by": "rule", "detectors": ()})
    with pytest.raises(ValidationError):
        SubRisk(**{**good, "message": "I got {nonsense} here, ok?"})
    with pytest.raises(ValidationError):
        SubRisk(**{**good, "question": "Not a question."})
    dims = load_taxonomy().model_dump()["dimensions"]
    dims[1]["id"] = dims[0]["id"]
    with pytest.raises(ValidationError):
        Taxonomy.model_validate({"dimensions": dims})
