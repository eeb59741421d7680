"""Throughput of the mubench chapter's hot paths against the strongest references available here.

Run: ``python bench/mubench.py`` (``--quick``: two English weekday prompts, 12 languages × 200 items
for the matrices, a few seconds; CI runs it). Candidates run interleaved with :func:`reprobook.benchmark.compare`; the record
goes to ``bench/records/mubench.json``.

1. **Scoring the CLDR probe with SmolLM2.** Reference: the plain transformers loop that lm-eval's ``hf``
   backend runs for multiple choice, every (prompt + option) sequence in length-sorted, padded batches,
   one forward each, no prefix sharing. Ours: ``reprobook.lm``'s shared-prefix scoring (each prompt
   once, the options continued from its KV cache). Work is counted in **scored tokens, each once**: a
   prompt's tokens once, plus every option's tokens after it. (An earlier version counted the prompt
   once per option, inflating the rate about K-fold.) Both must agree within 1e-4 nats. The brief's
   target is ≥ 350 tokens/s on 2 idle cores and a speed-up over the reference.
2. **Consistency matrices** for 61 languages × 2,000 items × 4 options: Cohen's κ for every pair
   against ``sklearn.metrics.cohen_kappa_score`` (the established implementation); RankC for every
   pair against the direct per-pair numpy form of Qi et al.'s definition (no installable package
   implements RankC). Target: all matrices in < 1 s.
"""

from __future__ import annotations

import itertools

import numpy as np

from reprobook.benchmark import BenchResult, compare, quick_mode, write_record
from reprobook.mubench import consistency as cons

SCORING_TARGET_TOKENS_PER_S = 350.0


def plain_transformers_score(backend, prompts: list[str], options: list[str], batch_size: int = 32) -> np.ndarray:
    """Summed log-prob of every option after every prompt, each pair its own right-padded sequence."""
    import torch

    tokenizer, model = backend.tokenizer, backend.model
    prompt_ids = [tokenizer(text, add_special_tokens=False)["input_ids"] for text in prompts]
    option_ids = [tokenizer(text, add_special_tokens=False)["input_ids"] for text in options]
    pairs = sorted(itertools.product(range(len(prompts)), range(len(options))),
                   key=lambda pair: -(len(prompt_ids[pair[0]]) + len(option_ids[pair[1]])))
    out = np.zeros((len(prompts), len(options)))
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
    for start in range(0, len(pairs), batch_size):
        chunk = pairs[start:start + batch_size]
        sequences = [prompt_ids[p] + option_ids[o] for p, o in chunk]
        ids = torch.full((len(chunk), max(map(len, sequences))), pad, dtype=torch.long)
        mask = torch.zeros_like(ids)
        for row, sequence in enumerate(sequences):
            ids[row, :len(sequence)] = torch.tensor(sequence)
            mask[row, :len(sequence)] = 1
        with torch.inference_mode():
            logp = torch.log_softmax(model(input_ids=ids, attention_mask=mask).logits.float(), dim=-1)
        for row, (p, o) in enumerate(chunk):
            first = len(prompt_ids[p])
            steps = torch.arange(first - 1, first + len(option_ids[o]) - 1)
            out[p, o] = float(logp[row, steps, torch.tensor(option_ids[o])].sum())
    return out


def scored_tokens(prompt_lengths: list[int], option_lengths: list[int]) -> int:
    """The work of scoring every option after every prompt, each scored token counted once: a prompt's
    tokens once (however many options continue it), plus every option's tokens after each prompt.

    >>> scored_tokens([5, 3], [1, 2, 2])  # (5 + 5) + (3 + 5); not 5·3 + 5 + 3·3 + 5
    18
    """
    return sum(prompt_lengths) + len(prompt_lengths) * sum(option_lengths)


def bench_scoring(languages: list[str], tasks: list[str], rounds: int, max_prompts: int | None = None
                  ) -> BenchResult | None:
    import torch

    from reprobook.lm import ModelNotPrepared, TransformersBackend, prepared_model_path
    from reprobook.mubench.cldr_probe import build_probe

    try:
        path = prepared_model_path("smollm2")
    except ModelNotPrepared as error:
        print(f"scoring benchmark skipped: {error}")
        return None
    backend = TransformersBackend(path, num_threads="auto")
    groups: dict[tuple[str, str, str], list] = {}
    for item in build_probe(languages, tasks):
        groups.setdefault((item.lang, item.task, item.score_group), []).append(item)
    jobs = []
    tokens = 0
    for members in groups.values():
        prompts = [item.prompt for item in members][:max_prompts]
        options = sorted({text for item in members for text in item.option_texts})
        jobs.append((prompts, options))
        count = [len(backend.tokenizer(text, add_special_tokens=False)["input_ids"]) for text in prompts + options]
        tokens += scored_tokens(count[:len(prompts)], count[len(prompts):])
    worst = 0.0
    for prompts, options in jobs:
        shared = np.array([[option.logprob for option in row] for row in backend.score(prompts, options)])
        worst = max(worst, float(np.abs(shared - plain_transformers_score(backend, prompts, options)).max()))
    result = compare(
        {"plain transformers, every prompt + option": lambda: [plain_transformers_score(backend, *job) for job in jobs],
         "shared prefix (reprobook.lm)": lambda: [backend.score(*job) for job in jobs]},
        reference="plain transformers, every prompt + option", name="mubench: scoring the CLDR probe with SmolLM2",
        work=tokens, unit="scored tokens", rounds=rounds, warmup=1, targets={"shared prefix (reprobook.lm)": 1.0},
        notes=f"{len(languages)} languages × {tasks}, {len(jobs)} scoring calls, torch threads "
              f"{torch.get_num_threads()}; max |shared − plain| = {worst:.2e} nats (target ≤ 1e-4: "
              f"{'met' if worst <= 1e-4 else 'MISSED'})")
    rate = result.throughput("shared prefix (reprobook.lm)")
    result.notes += (f"; shared-prefix rate {rate:,.0f} scored tokens/s (each token once), target ≥ "
                     f"{SCORING_TARGET_TOKENS_PER_S:g} on 2 idle cores: "
                     f"{'met' if rate >= SCORING_TARGET_TOKENS_PER_S else 'not met on this run'}")
    return result


def kappa_pairs_sklearn(pred: np.ndarray) -> np.ndarray:
    from sklearn.metrics import cohen_kappa_score

    n = pred.shape[0]
    out = np.eye(n)
    for a, b in itertools.combinations(range(n), 2):
        out[a, b] = out[b, a] = cohen_kappa_score(pred[a], pred[b])
    return out


def rankc_pairs_numpy(scores: np.ndarray) -> np.ndarray:
    """RankC pair by pair: |top_j^a ∩ top_j^b| = the options whose worse rank of the two is below j."""
    n, _, k = scores.shape
    weights = cons.rankc_weights(k)
    positions = cons.rank_positions(scores.reshape(-1, k)).reshape(scores.shape)
    depth = np.arange(1, k + 1)
    out = np.eye(n)
    for a, b in itertools.combinations(range(n), 2):
        worse = np.maximum(positions[a], positions[b])  # items × K
        overlap = (worse[:, :, None] < depth[None, None, :]).sum(axis=1)  # items × K (j = 1..K)
        out[a, b] = out[b, a] = float((overlap / depth * weights).sum(axis=1).mean())
    return out


def bench_consistency(n_languages: int, n_items: int, rounds: int) -> list[BenchResult]:
    rng = np.random.default_rng(0)
    scores = rng.normal(size=(n_languages, n_items, 4))
    pred = scores.argmax(axis=2)
    if not np.allclose(kappa_pairs_sklearn(pred[:8]), cons.kappa_matrix(pred[:8])):
        raise AssertionError("kappa_matrix differs from sklearn's cohen_kappa_score")
    if not np.allclose(rankc_pairs_numpy(scores[:8]), cons.rankc_matrix(scores[:8])):
        raise AssertionError("rankc_matrix differs from the per-pair definition")
    pairs = n_languages * (n_languages - 1) // 2
    kappa = compare({"sklearn cohen_kappa_score, per pair": lambda: kappa_pairs_sklearn(pred),
                     "kappa_matrix (ours)": lambda: cons.kappa_matrix(pred)},
                    reference="sklearn cohen_kappa_score, per pair", name=f"mubench: Cohen's κ, {n_languages} languages",
                    work=pairs, unit="language pairs", rounds=rounds, warmup=1, targets={"kappa_matrix (ours)": 1.0},
                    notes=f"{n_items} items per language; target for all matrices: < 1 s")
    rankc = compare({"per-pair numpy RankC": lambda: rankc_pairs_numpy(scores),
                     "rankc_matrix (ours)": lambda: cons.rankc_matrix(scores)},
                    reference="per-pair numpy RankC", name=f"mubench: RankC, {n_languages} languages", work=pairs,
                    unit="language pairs", rounds=rounds, warmup=1, targets={"rankc_matrix (ours)": 1.0},
                    notes=f"{n_items} items × 4 options per language; no installable package implements RankC")
    return [kappa, rankc]


def main() -> None:
    quick = quick_mode()
    results = bench_consistency(12, 200, 3) if quick else bench_consistency(61, 2000, 7)
    scoring = bench_scoring(["en"], ["weekday"], 2, max_prompts=2) if quick else \
        bench_scoring(["en", "zh"], ["weekday", "month", "category"], 3)
    if scoring is not None:
        results.append(scoring)
    for result in results:
        print(result.report())
        print()
    write_record(results, "mubench")


if __name__ == "__main__":
    main()
