"""Cost probe of a profile: how many tutor replies per second the language model backend gives.

The probe resolves the profile's parameters (:func:`chapter.validate_parameters`), builds its item
set and asks the first language-model tutor for single-turn replies and first dialogue turns, in
the profile's batch size and reply length, for about ``seconds``. The unit is one tutor reply; the
whole profile needs, per seed and system prompt, one reply per single-turn item and one per
dialogue turn, plus one plainly asked answer per dialogue problem (the competence baseline).

The paper's tutors (3.8B–72B) are not available offline: the probe measures SmolLM2-135M (or the
canned stub where SmolLM2 is not prepared) and says so in the probe's notes.
"""

from __future__ import annotations

import time
from typing import Any

from reprobook.benchmark import tree_cpu_seconds
from reprobook.estimate import Probe
from reprobook.lm import generate_batch
from reprobook.safetutors import chapter
from reprobook.safetutors.experiments import TutorConfig, make_backend, make_items
from reprobook.safetutors.students import conversation_for

__all__ = ["probe", "replies_needed"]


def replies_needed(params: chapter.ChapterParams) -> int:
    """Tutor replies of the language models over the whole profile (every seed and system prompt)."""
    total = 0
    for seed in params.seeds:
        singles, dialogues = make_items(chapter.item_set(params, seed))
        if params.lm_single_items:
            singles = singles[:params.lm_single_items]
        turns = sum(d.n_turns for d in dialogues) if params.lm_multi else 0
        per_prompt = len(singles) + turns
        total += len(params.language_models) * (len(params.system_prompts) * per_prompt + len(dialogues))
    return total


def probe(parameters: dict[str, Any], seconds: float) -> Probe:
    """Generate replies of the profile's first language-model tutor for about ``seconds``.

    >>> p = probe({"profile": "smoke", "tutors": ["socratic", "answer_dumper", "sycophant", "drifter",
    ...            "flat_drifter", "stub"], "model_judge": "none"}, seconds=0.05)
    >>> p.unit, p.units_done > 0, p.units_total >= p.units_done
    ('tutor replies', True, True)
    """
    given = dict(parameters)
    profile = given.pop("profile", "book")
    params = chapter.validate_parameters(profile=profile, **given)
    if not params.language_models:
        raise ValueError("the profile runs no language-model tutor: nothing to estimate (add 'smollm2' or "
                         "'endpoint' to 'tutors')")
    tutor = params.language_models[0]
    items = chapter.item_set(params, params.seeds[0])
    singles, dialogues = make_items(items)
    config = TutorConfig(tutor=tutor, items=items, system_prompt=params.system_prompts[0],
                         max_new_tokens=params.max_new_tokens, batch_size=params.batch_size,
                         num_threads=params.num_threads, device=params.device, endpoint_url=params.endpoint_url,
                         endpoint_model=params.endpoint_model)
    backend = make_backend(config, singles + dialogues)
    # first turns of the dialogues and single-turn items, as many batches as the time allows
    pool = [conversation_for(item, [], params.system_prompts[0]) for item in dialogues + singles]
    # a short probe uses smaller batches so that one batch fits its time; batching amortises weight
    # reads, so a smaller batch overstates the cost per reply (the notes say so)
    batch = params.batch_size if seconds >= 10 else max(1, min(params.batch_size, int(seconds)))
    done = 0
    cpu_started, started = tree_cpu_seconds(), time.perf_counter()
    while done == 0 or time.perf_counter() - started < seconds:
        start = done % len(pool)
        chunk = pool[start:start + batch]
        generate_batch(backend, chunk, params.max_new_tokens)
        done += len(chunk)
    wall, cpu = time.perf_counter() - started, tree_cpu_seconds() - cpu_started
    threads = getattr(backend, "threads", 1) or 1
    names = {"smollm2": "SmolLM2-135M-Instruct (local, CPU)", "stub": "the canned stub backend (SmolLM2 not prepared)",
             "endpoint": f"the endpoint model {params.endpoint_model!r}"}
    notes = (f"measured on {names.get(tutor, tutor)} with {threads} thread(s): the paper's 3.8B–72B tutors are not "
             f"available offline, and a larger model is slower per reply in proportion to its size; first turns "
             f"only (later dialogue turns carry longer contexts); the model judge's scoring and the controls are "
             f"not counted" + (f"; batches of {batch} instead of the profile's {params.batch_size} (a short "
                                f"probe): the projection overstates the cost" if batch < params.batch_size else ""))
    return Probe(units_done=done, wall_seconds=wall, cpu_seconds=cpu, device="cpu",
                 units_total=max(replies_needed(params), done), cells=len(params.seeds), unit="tutor replies",
                 notes=notes)
