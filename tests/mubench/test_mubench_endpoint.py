"""MuBench scores a user's model behind an OpenAI-compatible server (``model="endpoint"``)."""

import pytest

from fake_openai import token_logprob, tokens_of
from reprobook.lm import ScoringNotSupported
from reprobook.mubench import chapter
from reprobook.mubench.cldr_probe import build_probe
from reprobook.params import ParameterError


def expected_logprob(prompt: str, option: str) -> float:
    """The fake model's log-prob of ``option`` after ``prompt``, summed by hand over its word tokens."""
    text = prompt + option
    total, offset = 0.0, 0
    for token in tokens_of(text):
        if offset + len(token) > len(prompt):
            total += token_logprob(token)
        offset += len(token)
    return total


def test_the_probe_is_scored_through_the_servers_log_probs(openai_server):
    url, state = openai_server
    params = chapter.validate_parameters(profile="smoke", languages=["en", "de"], tasks=["weekday"],
                                         model="endpoint", endpoint_url=url + "/", endpoint_model="my-model",
                                         endpoint_concurrency=3)
    assert params.endpoint == (url, "my-model", 3)
    assert chapter.model_label(params) == f"my-model (served at {url})"
    config = params.probe_configs()[0]
    table = chapter.run_language(config)
    items = {item.item_id: item for item in build_probe(["en"], ("weekday",), seed=config.seed)}
    assert len(table) == sum(len(item.options) for item in items.values()) > 0
    for row in table.head(12).itertuples():
        assert row.logprob == pytest.approx(expected_logprob(items[row.item_id].prompt, row.text))
    assert {path for path, _ in state["seen"]} == {"/v1/completions"}
    assert all(body["model"] == "my-model" and body["echo"] for _, body in state["seen"])
    assert state["max_in_flight"] <= 3


def test_a_server_without_log_probs_stops_the_run_naming_it(openai_server):
    url, state = openai_server
    state["logprobs"] = False
    params = chapter.validate_parameters(profile="smoke", languages=["en", "de"], tasks=["weekday"],
                                         model="endpoint", endpoint_url=url, endpoint_model="chat-only")
    with pytest.raises(ScoringNotSupported, match="/completions"):
        chapter.run_language(params.probe_configs()[0])


@pytest.mark.parametrize(("given", "message"), [
    ({"model": "endpoint"}, "'endpoint_url' must be the address"),
    ({"model": "endpoint", "endpoint_url": "127.0.0.1:8000"}, "'endpoint_url' must be the address"),
    ({"model": "endpoint", "endpoint_url": "http://127.0.0.1:8000/v1"}, "'endpoint_model' must be the name"),
    ({"model": "endpoint", "endpoint_url": "http://h/v1", "endpoint_model": "m", "endpoint_concurrency": 0},
     r"'endpoint_concurrency' must be an integer in \["),
    ({"model": "stub", "endpoint_url": "http://h/v1"}, "set but model = 'stub'"),
])
def test_endpoint_parameters_are_validated(given, message):
    with pytest.raises(ParameterError, match=message):
        chapter.validate_parameters(profile="smoke", languages=["en", "de"], **given)
