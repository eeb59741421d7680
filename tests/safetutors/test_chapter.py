import pytest

from reprobook.params import ParameterError
from reprobook.safetutors import chapter

CONTROLS = ["socratic", "answer_dumper", "sycophant", "drifter", "flat_drifter"]


def _params(**extra):
    return chapter.validate_parameters(profile="book", **{"tutors": CONTROLS, "model_judge": "none",
                                                           "n_bootstrap": 500, "n_permutations": 200, **extra})


def test_validation_messages_name_the_parameter():
    with pytest.raises(ParameterError, match="'n_turns'"):
        _params(n_turns=9)
    with pytest.raises(ParameterError, match="'subjects'"):
        chapter.validate_parameters(subjects=["biology"])
    with pytest.raises(ParameterError, match="every control"):
        chapter.validate_parameters(tutors=["socratic", "smollm2"])
    with pytest.raises(ParameterError, match="unknown parameter"):
        chapter.validate_parameters(temperature=0.7)
    with pytest.raises(ParameterError, match="endpoint_url"):
        chapter.validate_parameters(tutors=CONTROLS + ["endpoint"], model_judge="none")


@pytest.mark.parametrize(("name", "value"), [
    ("max_dialogues_per_subject", 10_000), ("lm_single_items", 10**6), ("n_model_judge_ours", 10**6),
    ("n_model_judge_mrbench", 10**6), ("calibration_seeds", 10**7), ("n_bootstrap", 10**8),
    ("n_permutations", 10**8), ("control_seeds", 500), ("max_new_tokens", 10**5), ("batch_size", 10**4),
    ("time_budget_s", 1e9), ("dialogues_per_dimension", 50),
])
def test_absurd_sizes_are_refused_with_the_allowed_range(name, value):
    with pytest.raises(ParameterError, match=rf"'{name}' must be (an integer|a number) in \["):
        _params(**{name: value})


def test_too_many_seeds_are_refused():
    with pytest.raises(ParameterError, match="'seeds'.*at most"):
        _params(seeds=list(range(100)))


def test_stub_is_refused_outside_smoke():
    with pytest.raises(ParameterError, match="stub"):
        chapter.validate_parameters(profile="book", tutors=CONTROLS + ["stub"], model_judge="none")
    with pytest.raises(ParameterError, match="stub"):
        chapter.validate_parameters(profile="book", tutors=CONTROLS, model_judge="stub")
    assert "stub" in chapter.validate_parameters(profile="smoke", tutors=CONTROLS + ["stub"],
                                                 model_judge="stub").tutors


def test_drifters_run_on_further_seeds_with_paired_items_only():
    params = _params(seeds=[0, 1], control_seeds=3)
    extra = [config for config in chapter.tutor_configs(params) if config.paired_singles_only]
    assert sorted({config.items.seed for config in extra}) == [2, 3, 4]
    assert {config.tutor for config in extra} == {"drifter", "flat_drifter"}


def test_device_is_validated_and_reaches_every_language_model_config():
    with pytest.raises(ParameterError, match="'device'"):
        _params(device="tpu")
    params = _params(tutors=CONTROLS + ["smollm2"], device="auto")
    assert params.device == "auto"
    lm_configs = [config for config in chapter.tutor_configs(params) if config.tutor == "smollm2"]
    assert lm_configs and all(config.device == "auto" for config in lm_configs)
    mrbench, model_judge, _ = chapter.judge_configs(params)
    assert mrbench.device == model_judge.device == "auto"
