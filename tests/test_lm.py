
import pytest

from reprobook.lm import (
    Backend,
    ModelNotPrepared,
    StubBackend,
    TransformersBackend,
    conversion_is_sane,
    generate_batch,
    prepared_model_path,
    score_options,
    yes_no_logprob,
)
from reprobook.safetutors.tutors import ControlTutor

CHAT = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "What is 2 + 3?"}]


def test_protocol_conformance_and_validation():
    for backend in (StubBackend(), ControlTutor("socratic", [])):
        assert isinstance(backend, Backend)
    with pytest.raises(ValueError):
        generate_batch(StubBackend(), [[{"role": "robot", "content": "x"}]], 4)
    with pytest.raises(ValueError):
        generate_batch(StubBackend(), [CHAT], 0)
    assert yes_no_logprob(StubBackend(option_logprobs={"Yes": -0.2, "No": -1.7}), [CHAT, CHAT]).tolist() == \
        pytest.approx([1.5, 1.5])


def test_prepared_model_missing_names_the_command(tmp_path, monkeypatch):
    monkeypatch.setenv("REPROBOOK_MODEL_DIR", str(tmp_path))
    with pytest.raises(ModelNotPrepared, match="prepare smollm2"):
        prepared_model_path("smollm2")


def _tiny_llama(tmp_path):
    """A randomly initialised two-layer Llama saved as a local folder, with a small tokenizer."""
    import torch
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    words = "the a stone falls from height time answer yes no what is two three four five".split()
    vocab = {"<pad>": 0, "<eos>": 1, "<unk>": 2, **{w: i + 3 for i, w in enumerate(words)}}
    tok = Tokenizer(models.WordLevel(vocab, unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, pad_token="<pad>", eos_token="<eos>", unk_token="<unk>")
    torch.manual_seed(0)
    config = LlamaConfig(vocab_size=len(vocab), hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                         num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=128,
                         pad_token_id=0, eos_token_id=1, bos_token_id=1)
    model = LlamaForCausalLM(config)
    model.save_pretrained(tmp_path)
    fast.save_pretrained(tmp_path)
    return tmp_path


def test_transformers_backend_shared_prefix_scoring_equals_full_rescoring(tmp_path):
    import torch

    backend = TransformersBackend(_tiny_llama(tmp_path), batch_size=2, chat_template=False, num_threads=1)
    assert isinstance(backend, Backend)
    prompts = ["the stone falls from height", "what is two", "a"]
    options = ["yes", "no", "three four five", "the answer"]
    shared = score_options(backend, prompts, options)
    for i, prompt in enumerate(prompts):
        for j, option in enumerate(options):
            p_ids = backend.tokenizer(prompt, add_special_tokens=False)["input_ids"]
            o_ids = backend.tokenizer(option, add_special_tokens=False)["input_ids"]
            ids = torch.tensor([p_ids + o_ids])
            with torch.inference_mode():
                logp = torch.log_softmax(backend.model(input_ids=ids).logits[0].float(), -1)
            full = sum(float(logp[len(p_ids) - 1 + k, token]) for k, token in enumerate(o_ids))
            assert shared[i, j] == pytest.approx(full, abs=1e-4), (prompt, option)


def test_transformers_batched_generation_equals_one_at_a_time(tmp_path):
    backend = TransformersBackend(_tiny_llama(tmp_path), batch_size=4, chat_template=False, num_threads=1)
    conversations = [[{"role": "user", "content": text}] for text in
                     ["the stone", "what is two three four five the answer", "a", "yes no yes"]]
    batched = backend.generate(conversations, 6)
    single = [backend.generate([c], 6)[0] for c in conversations]
    assert batched == single


def test_broken_conversion_is_caught(tmp_path):
    # a randomly initialised model stands for a broken de-quantisation: real text is no likelier
    broken = TransformersBackend(_tiny_llama(tmp_path), chat_template=False, num_threads=1)
    assert not conversion_is_sane(broken, "the stone falls from height what is two three four five the answer")
    try:
        path = prepared_model_path("smollm2")
    except ModelNotPrepared as error:  # a machine without the converted model: the message says how
        assert "python -m reprobook.lm prepare smollm2" in str(error)
        return
    assert conversion_is_sane(TransformersBackend(path, num_threads=1))


def test_transformers_backend_device_is_validated_and_cpu_by_default(tmp_path):
    import torch

    from reprobook.params import ParameterError

    path = _tiny_llama(tmp_path)
    backend = TransformersBackend(path, chat_template=False, num_threads=1)
    assert backend.device == "cpu" and next(backend.model.parameters()).device.type == "cpu"
    auto = TransformersBackend(path, chat_template=False, num_threads=1, device="auto")
    assert auto.device == ("cuda" if torch.cuda.is_available() else "cpu")
    prompts, options = ["the cat sat on"], [" the mat", " a hat"]
    assert [s.logprob for s in auto.score(prompts, options)[0]] == [s.logprob for s in backend.score(prompts, options)[0]] \
        or auto.device == "cuda"
    with pytest.raises(ParameterError, match="device"):
        TransformersBackend(path, chat_template=False, num_threads=1, device="tpu")
    if not torch.cuda.is_available():
        with pytest.raises(ParameterError, match="no CUDA GPU"):
            TransformersBackend(path, chat_template=False, num_threads=1, device="cuda")
