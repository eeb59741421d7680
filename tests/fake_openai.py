"""A fake OpenAI-compatible server for tests (``http.server`` in a thread): ``/chat/completions`` echoes the
last message, ``/completions`` echoes the prompt's log-probs under a word tokenizer, and the state lets a
test inject delays, 5xx answers or a server without log-probs. Used through the ``openai_server`` fixture."""

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


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


def serve():
    """A generator for a pytest fixture: yields (base URL, state) while the server runs."""
    Handler.state = {"lock": threading.Lock(), "seen": [], "in_flight": 0, "max_in_flight": 0, "fail_first": 0,
                     "delay": 0.0, "logprobs": True}
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_port}/v1", Handler.state
    httpd.shutdown()
    httpd.server_close()
