"""A thin OpenAI-compatible server in front of a local model, so the endpoint path can be run and tested
against a real model offline (``/v1/chat/completions`` and ``/v1/completions`` with echoed prompt
log-probabilities, the two routes :class:`~reprobook.lm.EndpointBackend` uses).

It serves one request at a time (the model is not thread-safe) and is meant for tests and for trying
the chapter's ``endpoint`` tutor on a laptop; it is not a production server::

    python -m reprobook.safetutors.serve --port 8011      # SmolLM2 at http://127.0.0.1:8011/v1
"""

from __future__ import annotations

import argparse
import json
import threading
from collections.abc import Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from reprobook.lm import TransformersBackend

__all__ = ["ModelServer", "serve"]


class ModelServer:
    """``backend`` behind an OpenAI-style HTTP API on ``host:port`` (port 0 = any free port), in a thread."""

    def __init__(self, backend: TransformersBackend, host: str = "127.0.0.1", port: int = 0,
                 model_name: str = "smollm2"):
        self.backend = backend
        self.model_name = model_name
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - the http.server interface
                try:
                    body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))))
                    if self.path.endswith("/chat/completions"):
                        self._answer(200, server.chat(body))
                    elif self.path.endswith("/completions"):
                        self._answer(200, server.completions(body))
                    else:
                        self._answer(404, {"error": {"message": f"no route {self.path}"}})
                except (KeyError, TypeError, ValueError) as error:
                    self._answer(400, {"error": {"message": f"bad request: {error}"}})

            def _answer(self, code: int, payload: dict[str, Any]) -> None:
                data = json.dumps(payload).encode("utf-8")
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer((host, port), Handler)
        self.url = f"http://{host}:{self.httpd.server_port}/v1"
        self._thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def chat(self, body: dict[str, Any]) -> dict[str, Any]:
        limit = body.get("max_completion_tokens", body.get("max_tokens", 256))
        with self._lock:
            reply = self.backend.generate([body["messages"]], int(limit))[0]
        return {"object": "chat.completion", "model": self.model_name,
                "choices": [{"index": 0, "message": {"role": "assistant", "content": reply}, "finish_reason": "length"}]}

    def completions(self, body: dict[str, Any]) -> dict[str, Any]:
        """Only what scoring needs: ``echo`` with ``max_tokens = 0`` returns the prompt's token log-probs."""
        if not body.get("echo") or int(body.get("max_tokens", 16)) != 0:
            raise ValueError("this server only scores prompts: send echo=true and max_tokens=0")
        with self._lock:
            values, ids = self.backend.token_logprobs(str(body["prompt"]))
        tokenizer = self.backend.tokenizer
        tokens = [tokenizer.decode([int(token)]) for token in ids]
        offsets, position = [], 0
        for token in tokens:
            offsets.append(position)
            position += len(token)
        logprobs = [None] + [float(value) for value in values]
        return {"object": "text_completion", "model": self.model_name,
                "choices": [{"index": 0, "text": "", "logprobs": {"tokens": tokens, "token_logprobs": logprobs,
                                                                  "text_offset": offsets}}]}

    def __enter__(self) -> ModelServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def serve(argv: Sequence[str] | None = None) -> int:
    """Serve the prepared SmolLM2 until interrupted."""
    from reprobook.lm import prepared_model_path

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8011)
    args = parser.parse_args(argv)
    backend = TransformersBackend(prepared_model_path("smollm2"), num_threads=1, name="SmolLM2-135M-Instruct")
    with ModelServer(backend, args.host, args.port) as server:
        print(f"serving SmolLM2 at {server.url} (Ctrl-C stops)")
        try:
            server._thread.join()
        except KeyboardInterrupt:
            pass
    return 0


if __name__ == "__main__":
    raise SystemExit(serve())
