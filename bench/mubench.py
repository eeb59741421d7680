"""Throughput of the mubench chapter's hot paths, each beside a baseline measured in the same run.

Run: python bench/mubench.py [--quick]. Targets (from the chapter's brief): shared-prefix scoring of the
CLDR probe ≥ 350 scored tokens/s on 2 idle cores and equal to full re-scoring within 1e-4 nats; the
consistency matrices (C, κ, RankC) for 61 languages × 2,000 items × 4 options in < 1 s.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from reprobook.mubench import consistency as cons


def timed(fn, *args, **kwargs):
    wall, cpu = time.perf_counter(), time.process_time()
    out = fn(*args, **kwargs)
    return out, time.perf_counter() - wall, time.process_time() - cpu


def bench_scoring(languages: list[str], tasks: list[str]) -> None:
    import torch

    from reprobook.lm import ModelNotPrepared, TransformersBackend, prepared_model_path
    from reprobook.mubench.cldr_probe import build_probe
    from reprobook.mubench.scoring import naive_score

    try:
        path = prepared_model_path("smollm2")
    except ModelNotPrepared as error:
        print(f"scoring benchmark skipped: {error}")
        return
    backend = TransformersBackend(path, num_threads="auto")
    backend.score(["warm up"], [" a", " b"])
    groups = {}
    for item in build_probe(languages, tasks):
        groups.setdefault((item.lang, item.task, item.score_group), []).append(item)
    shared_wall = shared_cpu = naive_wall = naive_cpu = 0.0
    tokens = 0
    worst = 0.0
    for members in groups.values():
        prompts = [item.prompt for item in members]
        options = sorted({text for item in members for text in item.option_texts})
        enc = backend.tokenizer
        prompt_tokens = [len(enc(p, add_special_tokens=False)["input_ids"]) for p in prompts]
        option_tokens = [len(enc(o, add_special_tokens=False)["input_ids"]) for o in options]
        tokens += sum(p + o for p in prompt_tokens for o in option_tokens)  # the full re-scoring token count
        shared, wall, cpu = timed(backend.score, prompts, options)
        shared_wall, shared_cpu = shared_wall + wall, shared_cpu + cpu
        full, wall, cpu = timed(naive_score, backend, prompts, options)
        naive_wall, naive_cpu = naive_wall + wall, naive_cpu + cpu
        worst = max(worst, float(np.abs(np.array([[o.logprob for o in row] for row in shared]) - full).max()))
    rate, base = tokens / shared_wall, tokens / naive_wall
    print(f"CLDR probe scoring, {len(languages)} languages × {tasks}, torch threads {torch.get_num_threads()}:")
    print(f"  shared-prefix (reprobook.lm): {rate:,.0f} scored tok/s (wall {shared_wall:.1f} s, cpu {shared_cpu:.1f} s); "
          f"target ≥ 350 tok/s: {'met' if rate >= 350 else 'MISSED'}")
    print(f"  baseline full re-scoring:     {base:,.0f} scored tok/s (wall {naive_wall:.1f} s, cpu {naive_cpu:.1f} s); "
          f"ratio {rate / base:.2f}×")
    print(f"  max |shared − full| = {worst:.2e} nats; target ≤ 1e-4: {'met' if worst <= 1e-4 else 'MISSED'}")


def bench_consistency(n_items: int) -> None:
    rng = np.random.default_rng(0)
    scores = rng.normal(size=(61, n_items, 4))
    pred = scores.argmax(axis=2)
    (_, wall_c, _), (_, wall_k, _), (_, wall_r, cpu_r) = (timed(cons.agreement_matrix, pred),
                                                          timed(cons.kappa_matrix, pred),
                                                          timed(cons.rankc_matrix, scores))
    total = wall_c + wall_k + wall_r
    print(f"consistency, 61 languages × {n_items} items × 4: C {wall_c:.3f} s, κ {wall_k:.3f} s, RankC {wall_r:.3f} s "
          f"(cpu {cpu_r:.3f} s); target < 1 s: {'met' if total < 1 else 'MISSED'}")
    pairs = [(0, 1), (5, 9), (30, 60)]
    _, base_wall, _ = timed(lambda: [cons.rankc_naive(scores[a], scores[b]) for a, b in pairs])
    per_pair = base_wall / len(pairs)
    print(f"  baseline set-based RankC loop: {per_pair:.3f} s per pair → {per_pair * 61 * 61:.1f} s for all pairs; "
          f"ratio {per_pair * 61 * 61 / wall_r:.0f}×")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="two languages, weekday items only")
    args = parser.parse_args()
    bench_consistency(500 if args.quick else 2000)
    if args.quick:
        bench_scoring(["en", "de"], ["weekday"])
    else:
        bench_scoring(["en", "de", "hi", "zh"], ["weekday", "month"])


if __name__ == "__main__":
    main()
