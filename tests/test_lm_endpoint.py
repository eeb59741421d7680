"""The kit's EndpointBackend against real local HTTP servers (``http.server`` in a thread): parallel requests,
omittable options, ``/completions`` log-prob scoring, and 5xx, timeout and refused connection."""

import json
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

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


def token_logprob(token: str) -> float:
    """The fake model's log-probability of a token: a fixed function of its text."""
    return -0.1 * len(token) - (0.5 if token.strip().lower().startswith("no") else 0.0)


def tokens_of(text: str) -> list[str]:
    """The fake tokenizer: words with their leading space, so offsets are exact."""
    out, start = [], 0
    for index in range(1, len(text) + 1):
        if index == len(text) or text[index] == " ":
            out.append(text[start:index])
            start = index
    return out


class Handler(BaseHTTPRequestHandler):
    state: dict = {}

    def do_POST(self):  # noqa: N802 - the http.server interface
        state = Handler.state
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        with state["lock"]:
            state["seen"].append((self.path, body))
            state["auth"] = self.headers.get("Authorization")
            state["in_flight"] += 1
            state["max_in_flight"] = max(state["max_in_flight"], state["in_flight"])
            failures = state["fail_first"]
            state["fail_first"] = max(0, failures - 1)
        try:
            time.sleep(state["delay"])
            if failures:
                return self.answer(503, {"error": "busy"})
            if body.get("model") == "unknown":
                return self.answer(404, {"error": "model 'unknown' not found"})
            if self.path.endswith("/chat/completions"):
                text = f"echo {body['messages'][-1]['content']}"
                return self.answer(200, {"choices": [{"message": {"role": "assistant", "content": text}}]})
            if self.path.endswith("/completions") and state["logprobs"]:
                tokens = tokens_of(body["prompt"])
                offsets = [sum(map(len, tokens[:index])) for index in range(len(tokens))]
                values = [None] + [token_logprob(token) for token in tokens[1:]]
                return self.answer(200, {"choices": [{"text": "", "logprobs": {
                    "tokens": tokens, "token_logprobs": values, "text_offset": offsets}}]})
            return self.answer(404, {"error": "no such route"})
        finally:
            with state["lock"]:
                state["in_flight"] -= 1

    def answer(self, code, payload):
        data = json.dumps(payload).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


@pytest.fixture()
def server():
    Handler.state = {"lock": threading.Lock(), "seen": [], "in_flight": 0, "max_in_flight": 0, "fail_first": 0,
                     "delay": 0.0, "logprobs": True}
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_port}/v1", Handler.state
    httpd.shutdown()
    httpd.server_close()


def test_round_trip_sends_the_key_from_the_environment_and_never_stores_it(server, monkeypatch):
    url, state = server
    monkeypatch.setenv("TEST_TUTOR_KEY", "secret-123")
    backend = EndpointBackend(url, "tiny", api_key_env="TEST_TUTOR_KEY")
    assert isinstance(backend, Backend)
    assert generate_batch(backend, [CHAT, CHAT[1:]], max_new_tokens=7) == ["echo What is 2 + 3?"] * 2
    path, body = state["seen"][-1]
    assert path == "/v1/chat/completions" and body["model"] == "tiny" and body["max_tokens"] == 7
    assert state["auth"] == "Bearer secret-123"
    assert "secret-123" not in repr(vars(backend))


def test_requests_run_in_parallel_but_bounded_and_keep_their_order(server):
    url, state = server
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


def test_max_tokens_and_temperature_are_configurable_and_omittable(server):
    url, state = server
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


def test_score_sums_the_option_tokens_of_the_echoed_prompt(server):
    url, state = server
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


def test_a_server_without_logprobs_is_scoring_not_supported_and_the_judge_generates(server):
    url, state = server
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


def test_5xx_is_retried_then_named(server):
    url, state = server
    state["fail_first"] = 2
    assert generate_batch(EndpointBackend(url, "tiny", retries=2), [CHAT], 4) == ["echo What is 2 + 3?"]
    state["fail_first"] = 10
    with pytest.raises(EndpointError, match=r"failed after 2 tries; last: HTTP 503"):
        generate_batch(EndpointBackend(url, "tiny", retries=1), [CHAT], 4)


def test_timeout_is_named(server):
    url, state = server
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


def test_4xx_is_not_retried(server):
    url, state = server
    backend = EndpointBackend(url, "unknown", retries=3)
    with pytest.raises(EndpointError, match="HTTP 404.*not found"):
        generate_batch(backend, [CHAT], 4)
    assert backend.requests == 1


def test_the_kit_module_docstring_examples_run():
    import doctest

    import reprobook.lm

    result = doctest.testmod(reprobook.lm, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.attempted >= 3 and result.failed == 0
