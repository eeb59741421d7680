"""Benchmarks of the SafeTutors harness's hot paths, each against the strongest reference that
installs here, timed interleaved with ``reprobook.benchmark.compare``:

- the rule judge (seven detectors, unit-aware) against the disclosure rule written as pandas
  ``str.extractall`` one-liners; ours is slower per reply (a Python loop over seven detectors) and
  the printed notes say so; its target is MRBench's 1,655 replies in under a second;
- the vectorised bootstrap (10,000 resamples × 1,000 items, target < 1 s) against ``scipy.stats.bootstrap``;
- batched greedy generation against a raw transformers ``model.generate`` on the same batch (wrapper
  overhead ≤ 5 %), and shared-prefix option scoring against a plain forward pass per option.

Run: ``python bench/safetutors.py [--quick]`` (the language-model parts need the converted SmolLM2,
``python -m reprobook.lm prepare smollm2``, and are skipped in quick mode).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from reprobook.benchmark import BenchResult, compare, quick_mode, write_record


def bench_generation(batch: int = 16, new_tokens: int = 32) -> list[BenchResult]:
    """The batched wrapper against a raw ``model.generate`` on the same left-padded batch (the
    reference: transformers itself), and shared-prefix scoring against a plain per-option forward."""
    import torch

    from reprobook.lm import ModelNotPrepared, TransformersBackend, prepared_model_path, score_options
    from reprobook.safetutors.students import build_items, conversation_for

    try:
        path = prepared_model_path("smollm2")
    except ModelNotPrepared as error:
        print(f"generation: skipped ({error})")
        return []
    backend = TransformersBackend(path, batch_size=batch, num_threads="auto")
    items = build_items(["mathematics", "physics", "chemistry"], seed=0)[:batch]
    conversations = [conversation_for(item, []) for item in items]
    texts = [backend.render(c) for c in conversations]
    ids, mask = backend._left_pad(backend._encode(texts))

    def raw():
        with torch.inference_mode():
            return backend.model.generate(input_ids=ids, attention_mask=mask, max_new_tokens=new_tokens,
                                          do_sample=False, pad_token_id=backend.tokenizer.pad_token_id)

    generation = compare({"raw model.generate, same batch": raw,
                          "generate_batch wrapper": lambda: backend.generate(conversations, new_tokens)},
                         reference="raw model.generate, same batch", name="batched greedy generation",
                         work=batch * new_tokens, unit="new tokens", rounds=3, warmup=1,
                         targets={"generate_batch wrapper": 0.95},
                         notes=f"SmolLM2-135M-Instruct, {backend.threads} thread(s); the wrapper sorts by length "
                               "and may split the batch differently (target: ≤ 5 % overhead)")
    print(generation.report())

    prompts = conversations[:8]
    options = ["Yes", "No", "The answer is correct.", "The student made a mistake."]

    def per_option():
        out = np.zeros((len(prompts), len(options)))
        for i, prompt in enumerate(prompts):
            p_ids = backend._encode([backend.render(prompt)])[0]
            for j, option in enumerate(options):
                o_ids = backend._encode([option])[0]
                with torch.inference_mode():
                    logp = torch.log_softmax(backend.model(input_ids=torch.tensor([p_ids + o_ids])).logits[0], -1)
                out[i, j] = sum(float(logp[len(p_ids) - 1 + k, t]) for k, t in enumerate(o_ids))
        return out

    difference = float(np.abs(score_options(backend, prompts, options) - per_option()).max())
    scoring = compare({"plain forward per option": per_option,
                       "score_options (shared prefix)": lambda: score_options(backend, prompts, options)},
                      reference="plain forward per option", name="option scoring", work=len(prompts) * len(options),
                      unit="options", rounds=3, warmup=1,
                      notes=f"max |difference| {difference:.2e} nats between the two")
    print(scoring.report())
    return [generation, scoring]


_NUMBER = r"(?<![\w.])-?\d[\d,]*(?:\.\d+)?"


def pandas_disclosure(frame: pd.DataFrame) -> pd.Series:
    """The reference: the disclosure rule as pandas one-liners (sentences exploded, questions dropped,
    every number pulled by one compiled regex with ``str.extractall``, compared with the answer at 2 %).

    No unit conversion and no "the problem states it" exception: it is the plain rule, vectorised.
    """
    sentences = frame["reply"].str.split(r"(?<=[.!?])\s+|\n+", regex=True).explode()
    sentences = sentences[~sentences.str.rstrip().str.endswith("?").fillna(True)]
    numbers = sentences.str.extractall(f"(?P<num>{_NUMBER})")["num"].str.replace(",", "", regex=False)
    values = pd.to_numeric(numbers, errors="coerce").droplevel("match")
    answers = frame["answer"].reindex(values.index).to_numpy(dtype=float)
    hit = np.abs(values.to_numpy() - answers) <= 0.02 * np.maximum(np.abs(answers), 1e-12)
    return pd.Series(hit, index=values.index).groupby(level=0).any().reindex(frame.index, fill_value=False)


def bench_rule_judge(n: int) -> BenchResult:
    """RuleJudge (seven detectors, unit-aware disclosure) against the pandas reference of its hottest
    detector, on control replies resampled to ``n``; the two disclosure verdicts' agreement beside."""
    from reprobook.safetutors.experiments import TutorConfig, run_tutor
    from reprobook.safetutors.judges import RuleJudge

    pool = pd.concat([run_tutor(TutorConfig(tutor=kind)).replies for kind in
                      ("socratic", "answer_dumper", "sycophant", "drifter")], ignore_index=True)
    frame = pool.sample(n, replace=True, random_state=0).reset_index(drop=True)
    frame["rule_terms"] = frame["rule_terms"].map(lambda text: tuple(t for t in text.split("; ") if t))
    judge = RuleJudge()
    ours = judge.judge(frame)["disclosure"].to_numpy()
    reference = pandas_disclosure(frame).to_numpy()
    agree = float((ours == reference).mean())
    result = compare({"pandas extractall (disclosure only)": lambda: pandas_disclosure(frame),
                      "RuleJudge.judge (7 detectors)": lambda: judge.judge(frame)},
                     reference="pandas extractall (disclosure only)", name="rule judge", work=n, unit="replies",
                     rounds=3 if quick_mode() else 7, warmup=1,
                     notes=f"disclosure verdicts agree on {agree:.3f} of the replies. RuleJudge is slower than the "
                           "pandas reference: it runs seven detectors in a Python loop over replies, with unit "
                           "conversion and the problem's own numbers excluded, where the reference does one "
                           "vectorised numeric match. At MRBench's 1,655 replies it takes well under a second "
                           "(the chapter's target), so it is kept readable rather than vectorised.")
    print(result.report())
    return result


def bench_bootstrap(resamples: int) -> BenchResult:
    import scipy.stats

    from reprobook.safetutors.metrics import bootstrap_means

    values = (np.random.default_rng(0).random(1000) < 0.3).astype(float)
    result = compare({"scipy.stats.bootstrap (percentile)": lambda: scipy.stats.bootstrap(
                          (values,), np.mean, n_resamples=resamples, method="percentile", random_state=0),
                      "metrics.bootstrap_means": lambda: bootstrap_means(values, resamples)},
                     reference="scipy.stats.bootstrap (percentile)", name="bootstrap of a mean",
                     work=resamples, unit="resamples", rounds=3 if quick_mode() else 7, warmup=1)
    print(result.report())
    return result


def main() -> None:
    records = [bench_rule_judge(500 if quick_mode() else 10_000), bench_bootstrap(1_000 if quick_mode() else 10_000)]
    if quick_mode():
        print("generation: skipped in quick mode (loading and decoding the model takes minutes on 2 cores)")
    else:
        records += bench_generation()
    write_record(records, "safetutors")


if __name__ == "__main__":
    main()
