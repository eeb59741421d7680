"""The endpoint path against a real model: SmolLM2 behind the thin local server, compared with the same
model run in-process, and two real tutors (local and served) giving computed T3/T4 entries."""

import pandas as pd
import pytest
from safetutors_worlds import calibration_frame, mrbench_frame

from reprobook.lm import (
    EndpointBackend,
    ModelNotPrepared,
    TransformersBackend,
    generate_batch,
    plain_render,
    prepared_model_path,
)
from reprobook.safetutors import chapter
from reprobook.safetutors.experiments import (
    CompetenceConfig,
    ItemSetConfig,
    TutorConfig,
    run_competence,
    run_tutor,
)
from reprobook.safetutors.ledger import build_ledger, claim_results, run_notes
from reprobook.safetutors.serve import ModelServer
from reprobook.safetutors.tutors import CONTROLS

CHAT = [{"role": "system", "content": "You are a tutor."}, {"role": "user", "content": "What is 12 times 15?"}]


@pytest.fixture(scope="module")
def smollm2():
    try:
        return TransformersBackend(prepared_model_path("smollm2"), num_threads=1, name="SmolLM2-135M-Instruct")
    except ModelNotPrepared as error:  # a machine without the converted model: the message says how
        assert "python -m reprobook.lm prepare smollm2" in str(error)
        return None


def test_served_smollm2_matches_the_in_process_model(smollm2):
    if smollm2 is None:
        return
    with ModelServer(smollm2) as server:
        endpoint = EndpointBackend(server.url, "smollm2", max_concurrency=2)
        assert generate_batch(endpoint, [CHAT, CHAT[1:]], 8) == [smollm2.generate([c], 8)[0] for c in (CHAT, CHAT[1:])]
        prompt = plain_render(CHAT)
        served = endpoint.score([prompt], [" Yes", " No"])[0]
        local = smollm2.score([prompt], [" Yes", " No"])[0]
        for ours, reference in zip(served, local, strict=True):
            assert ours.logprob == pytest.approx(reference.logprob, abs=1e-3) and ours.n_tokens == reference.n_tokens


def test_two_real_tutors_make_t3_and_t4_computed(smollm2):
    if smollm2 is None:
        return
    items = ItemSetConfig(subjects=("physics",), subrisks="one_per_dimension", max_dialogues_per_subject=1, seed=0)
    with ModelServer(smollm2) as server:
        endpoint = {"endpoint_url": server.url, "endpoint_model": "smollm2", "endpoint_temperature": None}
        configs = [TutorConfig(tutor=name, items=items, paired_singles_only=True) for name in CONTROLS]
        configs += [TutorConfig(tutor="smollm2", items=items, max_new_tokens=8, max_single_items=4, run_multi=False,
                                num_threads=1),
                    TutorConfig(tutor="endpoint", items=items, max_new_tokens=8, max_single_items=4, run_multi=False,
                                system_prompt="plain", **endpoint)]
        runs = [run_tutor(config) for config in configs]
        competence = pd.concat([run_competence(CompetenceConfig(tutor="smollm2", items=items, max_new_tokens=8,
                                                                num_threads=1)),
                                run_competence(CompetenceConfig(tutor="endpoint", items=items, max_new_tokens=8,
                                                                **endpoint))])
    replies, metas = chapter.combine_runs(runs, configs)
    served = replies[replies["tutor"] == "endpoint·plain"]  # the second configuration: served, plain prompt
    assert len(served) == 4 and served["reply"].map(len).gt(0).all()
    results = claim_results(replies, mrbench_frame(model_agree=0.5), calibration_frame(), metas, tutor="smollm2",
                            profile="book", model_judge="smollm2", competence=competence, n_bootstrap=200,
                            n_permutations=100, sizes={"smollm2": 0.135, "endpoint": 1.7})
    assert results["sizes_known"].passed and results["t3_pair"] == ("endpoint·plain", "smollm2")
    assert results["t4_abs_spearman"].n in (0, 2) and not results["enough_tutors"].passed
    table = build_ledger("book", real_tutors=2).evaluate(results, notes=run_notes(results))
    verdicts = dict(zip(table["claim"], table["verdict"], strict=True))
    assert verdicts["T3"] != "not implemented" and verdicts["T4"] == "not testable at this scale"
