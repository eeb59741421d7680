"""An OpenAI-compatible endpoint as a tutor or judge, as users run them (issue #13, item 5).

:class:`EndpointBackend` talks to any server with the OpenAI HTTP API (vLLM, llama.cpp's
``llama-server``, Ollama, LM Studio, hosted APIs) with the standard library only:

- **bounded parallel requests**: a batch of conversations is sent by at most ``max_concurrency``
  threads at once, and the replies come back in the batch's order;
- **no parameters a server rejects**: ``max_tokens`` and ``temperature`` are sent only when set
  (``None`` leaves them out; current hosted reasoning models refuse both), and ``max_tokens_field``
  renames the limit (e.g. ``max_completion_tokens``);
- **scoring through ``/completions`` log-probs**: ``score()`` asks the legacy completions route to
  echo the prompt with per-token log-probabilities (``echo``, ``logprobs``, ``max_tokens = 0``) and
  sums the log-probs of the tokens that lie inside each option. A server that does not offer this
  answers ``ScoringNotSupported`` (remembered, so the judge falls back to a one-word verdict by
  generation without asking again);
- **errors named**: 5xx answers and timeouts are retried; a refused connection, a timeout or a 5xx
  after the last try, and any 4xx, raise :class:`EndpointError` naming the address and the cause.

The chat template is the server's for ``generate``; for ``score`` a conversation has to become one
text, rendered by ``render`` (pass the model's chat template) or, by default, as ``role: content``
lines, the same plain rendering as ``TransformersBackend(chat_template=False)``.

>>> backend = EndpointBackend("http://127.0.0.1:9/v1", "tiny", max_tokens=None, temperature=None)
>>> backend.chat_payload([{"role": "user", "content": "hi"}], 16)
{'model': 'tiny', 'messages': [{'role': 'user', 'content': 'hi'}]}
"""

from __future__ import annotations

import json
import os
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from reprobook.lm import Conversation, OptionScore, Prompt, ScoringNotSupported

__all__ = ["EndpointBackend", "EndpointError", "USE_MAX_NEW_TOKENS", "plain_render"]

#: ``max_tokens`` sentinel: send the caller's ``max_new_tokens`` (the default)
USE_MAX_NEW_TOKENS = "max_new_tokens"
#: the most requests in flight that the chapter allows (a user's server is not a load test)
MAX_CONCURRENCY = 64


class EndpointError(RuntimeError):
    """The endpoint did not give a usable answer (refused, timed out, HTTP error, malformed JSON)."""


def plain_render(prompt: Prompt) -> str:
    """A conversation as ``role: content`` lines ending in ``assistant:`` (a string stays as it is).

    >>> plain_render([{"role": "user", "content": "2 + 2?"}])
    'user: 2 + 2?\\nassistant:'
    """
    if isinstance(prompt, str):
        return prompt
    return "\n".join(f"{message['role']}: {message['content']}" for message in prompt) + "\nassistant:"


class EndpointBackend:
    """A tutor or judge behind an OpenAI-compatible HTTP API (see the module docstring)."""

    def __init__(self, base_url: str, model: str, *, max_tokens: int | str | None = USE_MAX_NEW_TOKENS,
                 temperature: float | None = 0.0, max_tokens_field: str = "max_tokens", max_concurrency: int = 4,
                 timeout_s: float = 60.0, retries: int = 2, api_key_env: str = "OPENAI_API_KEY",
                 render: Callable[[Prompt], str] | None = None):
        if not isinstance(base_url, str) or not base_url.startswith(("http://", "https://")):
            raise ValueError(f"base_url must start with http:// or https://, got {base_url!r}")
        if not isinstance(model, str) or not model:
            raise ValueError("model must be a non-empty string (the name the server knows the model by)")
        if max_tokens is not None and max_tokens != USE_MAX_NEW_TOKENS and (
                isinstance(max_tokens, bool) or not isinstance(max_tokens, int) or max_tokens < 1):
            raise ValueError(f"max_tokens must be a positive integer, {USE_MAX_NEW_TOKENS!r} or None (not sent); "
                             f"got {max_tokens!r}")
        if temperature is not None and (isinstance(temperature, bool) or not isinstance(temperature, (int, float))
                                        or not 0.0 <= float(temperature) <= 2.0):
            raise ValueError(f"temperature must be a number in [0, 2] or None (not sent); got {temperature!r}")
        if max_tokens_field not in ("max_tokens", "max_completion_tokens"):
            raise ValueError(f"max_tokens_field must be 'max_tokens' or 'max_completion_tokens'; got "
                             f"{max_tokens_field!r}")
        if isinstance(max_concurrency, bool) or not isinstance(max_concurrency, int) \
                or not 1 <= max_concurrency <= MAX_CONCURRENCY:
            raise ValueError(f"max_concurrency must be an integer from 1 to {MAX_CONCURRENCY}; got {max_concurrency!r}")
        if not isinstance(timeout_s, (int, float)) or isinstance(timeout_s, bool) or timeout_s <= 0:
            raise ValueError(f"timeout_s must be a positive number of seconds; got {timeout_s!r}")
        if isinstance(retries, bool) or not isinstance(retries, int) or retries < 0:
            raise ValueError(f"retries must be a non-negative integer; got {retries!r}")
        self.base_url = base_url.rstrip("/")
        self.model = model
        self.name = model
        self.max_tokens = max_tokens
        self.temperature = None if temperature is None else float(temperature)
        self.max_tokens_field = max_tokens_field
        self.max_concurrency = max_concurrency
        self.timeout_s = float(timeout_s)
        self.retries = retries
        self.api_key_env = api_key_env
        self.render = render or plain_render
        self.scoring_supported: bool | None = None  # None: not asked yet
        self.requests = 0

    # requests ----------------------------------------------------------------
    def _post(self, route: str, payload: dict[str, Any]) -> dict[str, Any]:
        url = f"{self.base_url}{route}"
        headers = {"Content-Type": "application/json"}
        key = os.environ.get(self.api_key_env)
        if key:
            headers["Authorization"] = f"Bearer {key}"
        data = json.dumps(payload).encode("utf-8")
        cause = ""
        for attempt in range(self.retries + 1):
            request = urllib.request.Request(url, data=data, headers=headers, method="POST")
            self.requests += 1
            try:
                with urllib.request.urlopen(request, timeout=self.timeout_s) as response:
                    body = response.read().decode("utf-8")
                try:
                    return json.loads(body)
                except json.JSONDecodeError:
                    raise EndpointError(f"{url} answered with text that is not JSON: {body[:200]!r}") from None
            except urllib.error.HTTPError as error:
                detail = error.read()[:200].decode("utf-8", "replace")
                if error.code < 500:
                    raise EndpointError(f"{url} answered HTTP {error.code}: {detail}") from None
                cause = f"HTTP {error.code}: {detail}"
            except urllib.error.URLError as error:
                reason = error.reason
                if isinstance(reason, ConnectionRefusedError):
                    # nobody listens there: retrying will not help
                    raise EndpointError(f"{url}: connection refused (is the server running at "
                                        f"{self.base_url}?)") from None
                if isinstance(reason, TimeoutError):
                    cause = f"no answer within timeout_s = {self.timeout_s:g} s"
                else:
                    cause = f"{reason}"
            except TimeoutError:
                cause = f"no answer within timeout_s = {self.timeout_s:g} s"
            if attempt < self.retries:
                time.sleep(0.2 * (attempt + 1))
        raise EndpointError(f"{url} failed after {self.retries + 1} tries; last: {cause}")

    def _parallel(self, function: Callable[[Any], Any], items: Sequence[Any]) -> list[Any]:
        if len(items) <= 1 or self.max_concurrency == 1:
            return [function(item) for item in items]
        with ThreadPoolExecutor(max_workers=min(self.max_concurrency, len(items))) as pool:
            return list(pool.map(function, items))

    # generation --------------------------------------------------------------
    def chat_payload(self, conversation: Conversation, max_new_tokens: int) -> dict[str, Any]:
        """The JSON body of one ``/chat/completions`` request (unset options are left out)."""
        payload: dict[str, Any] = {"model": self.model, "messages": conversation}
        if self.max_tokens == USE_MAX_NEW_TOKENS:
            payload[self.max_tokens_field] = int(max_new_tokens)
        elif self.max_tokens is not None:
            payload[self.max_tokens_field] = int(self.max_tokens)
        if self.temperature is not None:
            payload["temperature"] = self.temperature
        return payload

    def generate(self, conversations: Sequence[Conversation], max_new_tokens: int) -> list[str]:
        def one(conversation: Conversation) -> str:
            answer = self._post("/chat/completions", self.chat_payload(conversation, max_new_tokens))
            try:
                return str(answer["choices"][0]["message"]["content"] or "").strip()
            except (KeyError, IndexError, TypeError):
                raise EndpointError(f"{self.base_url}/chat/completions answered without "
                                    f"choices[0].message.content: {str(answer)[:200]}") from None

        return self._parallel(one, list(conversations))

    # scoring -----------------------------------------------------------------
    def _option_logprob(self, prefix: str, option: str) -> OptionScore:
        answer = self._post("/completions", {"model": self.model, "prompt": prefix + option, "max_tokens": 0,
                                             "echo": True, "logprobs": 1, "temperature": 0.0})
        try:
            logprobs = answer["choices"][0]["logprobs"]
            tokens, values, offsets = logprobs["tokens"], logprobs["token_logprobs"], logprobs["text_offset"]
        except (KeyError, IndexError, TypeError):
            raise ScoringNotSupported(f"{self.base_url}/completions returned no prompt log-probabilities "
                                      "(echo + logprobs); score with a verdict by generation instead") from None
        start = len(prefix)
        # the option's tokens: every token that ends after the prefix (a token straddling the boundary
        # is counted with the option, since the option changed it)
        inside = [index for index, offset in enumerate(offsets) if offset + len(tokens[index]) > start]
        if not inside or any(values[index] is None for index in inside):
            raise EndpointError(f"{self.base_url}/completions gave no log-probability for the option {option!r}")
        return OptionScore(float(sum(values[index] for index in inside)), len(inside), len(option.encode("utf-8")))

    def score(self, prompts: Sequence[Prompt], options: Sequence[str]) -> list[list[OptionScore]]:
        """Log-likelihood of each option after each prompt, from the server's echoed prompt log-probs."""
        if self.scoring_supported is False:
            raise ScoringNotSupported(f"{self.base_url} does not return prompt log-probabilities")
        texts = [self.render(prompt) for prompt in prompts]
        jobs = [(text, option) for text in texts for option in options]
        try:
            scores = self._parallel(lambda job: self._option_logprob(*job), jobs)
        except ScoringNotSupported:
            self.scoring_supported = False
            raise
        except EndpointError as error:
            if " answered HTTP 4" in str(error):  # no /completions route, or echo/logprobs refused
                self.scoring_supported = False
                raise ScoringNotSupported(f"{self.base_url}/completions does not score prompts: {error}") from None
            raise
        self.scoring_supported = True
        k = len(options)
        return [scores[row * k:(row + 1) * k] for row in range(len(texts))]
