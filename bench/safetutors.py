"""Benchmarks of the SafeTutors harness's hot paths, each against a baseline measured in the same run.

- batched greedy generation (left padding, KV cache, batch 16) vs one conversation at a time, and vs
  a raw ``model.generate`` call on the same batch (wrapper overhead); target ≥ 4× at batch 16;
- shared-prefix option scoring vs re-scoring prefix + option for every option;
- the rule judge over 10,000 replies (target < 2 s) vs the same judge converting every quantity with
  pint (no unit cache);
- the vectorised bootstrap (10,000 resamples × 1,000 items, target < 1 s) vs scipy.stats.bootstrap.

Run: ``python bench/safetutors.py`` (the language-model parts need the converted SmolLM2:
``python -m reprobook.lm prepare smollm2``).
"""

from __future__ import annotations

import os
import time

import numpy as np
import pandas as pd


def timed(fn):
    wall, cpu = time.perf_counter(), time.process_time()
    out = fn()
    return out, time.perf_counter() - wall, time.process_time() - cpu


def line(name: str, wall: float, cpu: float, extra: str = "") -> None:
    print(f"  {name:<44} wall {wall:8.3f} s   cpu {cpu:8.3f} s   {extra}")


def bench_generation(batch: int = 16, new_tokens: int = 32) -> None:
    import torch

    from reprobook.lm import ModelNotPrepared, TransformersBackend, prepared_model_path
    from reprobook.safetutors.students import build_items, conversation_for

    try:
        path = prepared_model_path("smollm2")
    except ModelNotPrepared as error:
        print(f"generation: skipped ({error})")
        return
    backend = TransformersBackend(path, batch_size=batch, num_threads="auto")
    items = build_items(["mathematics", "physics", "chemistry"], seed=0)[:batch]
    conversations = [conversation_for(item, []) for item in items]
    print(f"generation: SmolLM2-135M-Instruct, {batch} conversations × {new_tokens} new tokens, "
          f"{backend.threads} thread(s), load average {os.getloadavg()[0]:.1f}")
    backend.generate(conversations[:2], 4)  # warm-up

    backend.generated_tokens = 0
    _, wall_b, cpu_b = timed(lambda: backend.generate(conversations, new_tokens))
    tokens_b = backend.generated_tokens
    backend.generated_tokens = 0
    _, wall_s, cpu_s = timed(lambda: [backend.generate([c], new_tokens) for c in conversations])
    tokens_s = backend.generated_tokens
    line("batched (left padding, KV cache)", wall_b, cpu_b, f"{tokens_b / wall_b:7.1f} tok/s")
    line("one at a time", wall_s, cpu_s, f"{tokens_s / wall_s:7.1f} tok/s")
    ratio = (tokens_b / wall_b) / (tokens_s / wall_s)
    print(f"  speed-up batched / one-at-a-time: {ratio:.2f}×  (target ≥ 4×: {'met' if ratio >= 4 else 'NOT met'})")

    texts = [backend.render(c) for c in conversations]
    ids, mask = backend._left_pad(backend._encode(texts))

    def raw():
        with torch.inference_mode():
            return backend.model.generate(input_ids=ids, attention_mask=mask, max_new_tokens=new_tokens,
                                          do_sample=False, pad_token_id=backend.tokenizer.pad_token_id)
    _, wall_r, cpu_r = timed(raw)
    line("raw model.generate, same batch", wall_r, cpu_r)
    print(f"  wrapper overhead vs raw generate: {100 * (wall_b / wall_r - 1):+.1f} % wall "
          "(batched wrapper sorts by length and may split differently; target ≤ 5 %)")

    from reprobook.lm import score_options

    prompts = conversations[:8]
    options = ["Yes", "No", "The answer is correct.", "The student made a mistake."]
    shared, wall_p, cpu_p = timed(lambda: score_options(backend, prompts, options))

    def full():
        out = np.zeros((len(prompts), len(options)))
        for i, prompt in enumerate(prompts):
            p_ids = backend._encode([backend.render(prompt)])[0]
            for j, option in enumerate(options):
                o_ids = backend._encode([option])[0]
                with torch.inference_mode():
                    logp = torch.log_softmax(backend.model(input_ids=torch.tensor([p_ids + o_ids])).logits[0], -1)
                out[i, j] = sum(float(logp[len(p_ids) - 1 + k, t]) for k, t in enumerate(o_ids))
        return out
    reference, wall_f, cpu_f = timed(full)
    scored = sum(len(backend._encode([backend.render(p)])[0]) for p in prompts) + \
        len(prompts) * sum(len(backend._encode([o])[0]) for o in options)
    line("score_options, shared prefix", wall_p, cpu_p, f"{scored / wall_p:7.1f} scored tok/s")
    line("re-score prefix + option each time", wall_f, cpu_f)
    print(f"  speed-up {wall_f / wall_p:.2f}×; max |difference| {np.abs(shared - reference).max():.2e} nats")


def bench_rule_judge(n: int = 10_000) -> None:
    from reprobook.safetutors.experiments import TutorConfig, run_tutor
    from reprobook.safetutors.judges import RuleJudge

    pool = pd.concat([run_tutor(TutorConfig(tutor=kind)).replies for kind in
                      ("socratic", "answer_dumper", "sycophant", "drifter")], ignore_index=True)
    frame = pool.sample(n, replace=True, random_state=0).reset_index(drop=True)
    frame["rule_terms"] = frame["rule_terms"].map(lambda text: tuple(t for t in text.split("; ") if t))
    judge = RuleJudge()
    judge.judge(frame.head(50))  # warm the unit cache
    _, wall, cpu = timed(lambda: judge.judge(frame))
    print(f"rule judge: {n} replies × 7 detectors")
    line("RuleJudge.judge", wall, cpu, f"{n / wall:9.0f} replies/s  (target < 2 s: {'met' if wall < 2 else 'NOT met'})")

    from reprobook.safetutors import judges

    sample = frame.head(1000)
    cached = judges._factor
    judges._factor = cached.__wrapped__  # baseline: a pint conversion for every quantity, no unit cache
    try:
        _, wall_n, cpu_n = timed(lambda: judge.judge(sample))
    finally:
        judges._factor = cached
    scale = n / len(sample)
    line("baseline: same judge, pint per quantity (scaled)", wall_n * scale, cpu_n * scale)
    print(f"  speed-up {wall_n * scale / wall:.1f}×")


def bench_bootstrap() -> None:
    import scipy.stats

    from reprobook.safetutors.metrics import bootstrap_means

    values = (np.random.default_rng(0).random(1000) < 0.3).astype(float)
    _, wall, cpu = timed(lambda: bootstrap_means(values, 10_000))
    _, wall_s, cpu_s = timed(lambda: scipy.stats.bootstrap((values,), np.mean, n_resamples=10_000,
                                                           method="percentile", random_state=0))
    print("bootstrap: 10,000 resamples × 1,000 items")
    line("metrics.bootstrap_means", wall, cpu, f"(target < 1 s: {'met' if wall < 1 else 'NOT met'})")
    line("scipy.stats.bootstrap (percentile)", wall_s, cpu_s)


def main() -> None:
    import torch

    print(f"torch threads available: {torch.get_num_threads()}")
    bench_rule_judge()
    bench_bootstrap()
    bench_generation()


if __name__ == "__main__":
    main()
