"""The MuBench-format loader on a fixture we write, and the localised-marker-safe answer parser."""

import json

import pytest

from reprobook.mubench.loader import HubNotReachable, load_configs, parse_choice, parse_config_name


def test_config_names():
    assert parse_config_name("ARCChallenge_en_template_ar") == ("ARCChallenge", "en_template", "ar", None)
    assert parse_config_name("MMLUPro_mix_lighteval_zh_3") == ("MMLUPro", "mix_lighteval", "zh", 3)
    with pytest.raises(ValueError, match="config name"):
        parse_config_name("MMLU_local_template_xx")


def test_localised_markers_do_not_drop_rows():
    replies = {"en": "Answer: B", "zh": "答案：B", "ar": "الإجابة: ب B", "ja": "正解は（Ｃ）です", "de": "Antwort (D)"}
    parsed = {lang: parse_choice(text, 4) for lang, text in replies.items()}
    assert parsed == {"en": 1, "zh": 1, "ar": 1, "ja": 2, "de": 3}
    assert parse_choice("Answer: E", 4) is None  # out of range letters are not options
    assert parse_choice("BAD", 4) is None  # letters inside words do not count


def test_loader_checks_alignment(tmp_path):
    rows = [{"_id": i, "question": "q", "choices": ["a", "b"], "answer": "A"} for i in range(3)]
    for lang in ("en", "ar"):
        (tmp_path / f"MMLU_local_template_{lang}.json").write_text(json.dumps(rows), encoding="utf-8")
    assert len(load_configs(tmp_path, "MMLU", "local_template", ["en", "ar"])["ar"]) == 3
    (tmp_path / "MMLU_local_template_zh.json").write_text(json.dumps(rows[::-1]), encoding="utf-8")
    with pytest.raises(AssertionError, match="_id"):
        load_configs(tmp_path, "MMLU", "local_template", ["en", "zh"])
    with pytest.raises(HubNotReachable, match="hub"):
        load_configs(tmp_path, "MMLU", "local_template", ["sw"])
