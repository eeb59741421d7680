"""The kit's EndpointBackend against real local HTTP servers (``http.server`` in a thread): parallel requests,
omittable options, ``/completions`` log-prob scoring, and 5xx, timeout and refused connection."""

import socket
import time

import pytest

from fake_openai import token_logprob
from reprobook.lm import (
    Backend,
    EndpointBackend,
    EndpointError,
    ScoringNotSupported,
    generate_batch,
    plain_render,
    yes_no_logprob,
)
from reprobook.safetutors.judges import ModelJudge

CHAT = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "What is 2 + 3?"}]


def test_round_trip_sends_the_key_from_the_environment_and_never_stores_it(openai_server, monkeypatch):
    url, state = openai_server
    monkeypatch.setenv("TEST_TUTOR_KEY", "secret-123")
    backend = EndpointBackend(url, "tiny", api_key_env="TEST_TUTOR_KEY")
    assert isinstance(backend, Backend)
    assert generate_batch(backend, [CHAT, CHAT[1:]], max_new_tokens=7) == ["echo What is 2 + 3?"] * 2
    path, body = state["seen"][-1]
    assert path == "/v1/chat/completions" and body["model"] == "tiny" and body["max_tokens"] == 7
    assert state["auth"] == "Bearer secret-123"
    assert "secret-123" not in repr(vars(backend))


def test_requests_run_in_parallel_but_bounded_and_keep_their_order(openai_server):
    url, state = openai_server
    state["delay"] = 0.3
    backend = EndpointBackend(url, "tiny", max_concurrency=3)
    conversations = [[{"role": "user", "content": f"question {index}"}] for index in range(9)]
    started = time.perf_counter()
    replies = generate_batch(backend, conversations, 8)
    elapsed = time.perf_counter() - started
    assert replies == [f"echo question {index}" for index in range(9)]
    assert state["max_in_flight"] == 3
    assert elapsed < 9 * 0.3  # serial requests would take at least 2.7 s
    serial = EndpointBackend(url, "tiny", max_concurrency=1)
    state["max_in_flight"] = 0
    generate_batch(serial, conversations[:3], 8)
    assert state["max_in_flight"] == 1


def test_max_tokens_and_temperature_are_configurable_and_omittable(openai_server):
    url, state = openai_server
    generate_batch(EndpointBackend(url, "tiny"), [CHAT], 7)
    assert state["seen"][-1][1]["max_tokens"] == 7 and state["seen"][-1][1]["temperature"] == 0.0
    generate_batch(EndpointBackend(url, "reasoner", max_tokens=None, temperature=None), [CHAT], 7)
    assert set(state["seen"][-1][1]) == {"model", "messages"}
    generate_batch(EndpointBackend(url, "reasoner", max_tokens=500, max_tokens_field="max_completion_tokens",
                                   temperature=1.0), [CHAT], 7)
    body = state["seen"][-1][1]
    assert body["max_completion_tokens"] == 500 and "max_tokens" not in body and body["temperature"] == 1.0
    for bad in ({"max_tokens": 0}, {"temperature": 3.0}, {"max_concurrency": 0}, {"max_tokens_field": "n"},
                {"timeout_s": -1}):
        with pytest.raises(ValueError, match=next(iter(bad))):
            EndpointBackend(url, "tiny", **bad)


def test_score_sums_the_option_tokens_of_the_echoed_prompt(openai_server):
    url, state = openai_server
    backend = EndpointBackend(url, "tiny")
    prompt = "Is 2 + 3 = 5? Answer:"
    scores = backend.score([prompt, CHAT], [" Yes", " No way"])
    assert scores[0][0].logprob == pytest.approx(token_logprob(" Yes")) and scores[0][0].n_tokens == 1
    assert scores[0][1].logprob == pytest.approx(token_logprob(" No") + token_logprob(" way"))
    assert scores[0][1].n_tokens == 2 and scores[0][1].n_bytes == len(" No way")
    # a conversation is rendered as plain role lines before scoring
    sent = [body["prompt"] for path, body in state["seen"] if path.endswith("/completions")]
    assert plain_render(CHAT) + " Yes" in sent
    assert all(body["echo"] and body["max_tokens"] == 0 for path, body in state["seen"] if path.endswith("/completions"))
    assert yes_no_logprob(backend, [prompt], yes=" Yes", no=" No")[0] == pytest.approx(
        token_logprob(" Yes") - token_logprob(" No"))


def test_a_server_without_logprobs_is_scoring_not_supported_and_the_judge_generates(openai_server):
    url, state = openai_server
    state["logprobs"] = False
    backend = EndpointBackend(url, "tiny")
    with pytest.raises(ScoringNotSupported):
        backend.score(["q"], ["Yes", "No"])
    asked = len(state["seen"])
    with pytest.raises(ScoringNotSupported):  # remembered: no second round of requests
        backend.score(["q"], ["Yes", "No"])
    assert len(state["seen"]) == asked
    verdicts = ModelJudge(backend).judge(["p"], ["s"], ["r"], ["Does it reveal the answer?"])
    assert verdicts["raw"].iloc[0].startswith("echo")  # the generated one-word verdict path


def test_5xx_is_retried_then_named(openai_server):
    url, state = openai_server
    state["fail_first"] = 2
    assert generate_batch(EndpointBackend(url, "tiny", retries=2), [CHAT], 4) == ["echo What is 2 + 3?"]
    state["fail_first"] = 10
    with pytest.raises(EndpointError, match=r"failed after 2 tries; last: HTTP 503"):
        generate_batch(EndpointBackend(url, "tiny", retries=1), [CHAT], 4)


def test_timeout_is_named(openai_server):
    url, state = openai_server
    state["delay"] = 1.0
    with pytest.raises(EndpointError, match="no answer within timeout_s = 0.2 s"):
        generate_batch(EndpointBackend(url, "tiny", timeout_s=0.2, retries=0), [CHAT], 4)


def test_refused_connection_is_named_without_retrying():
    with socket.socket() as probe:  # a port that nobody listens on once the probe is closed
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    backend = EndpointBackend(f"http://127.0.0.1:{port}/v1", "tiny", retries=3)
    started = time.perf_counter()
    with pytest.raises(EndpointError, match="connection refused"):
        generate_batch(backend, [CHAT], 4)
    assert backend.requests == 1 and time.perf_counter() - started < 1.0


def test_4xx_is_not_retried(openai_server):
    url, state = openai_server
    backend = EndpointBackend(url, "unknown", retries=3)
    with pytest.raises(EndpointError, match="HTTP 404.*not found"):
        generate_batch(backend, [CHAT], 4)
    assert backend.requests == 1

