"""Shared-prefix scoring through the kit's TransformersBackend equals full re-scoring (tiny random model)."""

import numpy as np
import pytest

from reprobook.lm import TransformersBackend
from reprobook.mubench.cldr_probe import build_probe
from reprobook.mubench.scoring import aligned_arrays, naive_score, score_items


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory):
    import torch
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    items = build_probe(["en", "de", "hi", "zh"], ["weekday", "month", "category"])
    corpus = [item.prompt + text for item in items for text in item.option_texts]
    tokenizer = Tokenizer(models.BPE(unk_token="<unk>"))
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    tokenizer.train_from_iterator(corpus, trainers.BpeTrainer(
        vocab_size=300, special_tokens=["<unk>", "<eos>"], initial_alphabet=pre_tokenizers.ByteLevel.alphabet()))
    fast = PreTrainedTokenizerFast(tokenizer_object=tokenizer, eos_token="<eos>", pad_token="<eos>",
                                   unk_token="<unk>")
    torch.manual_seed(0)
    config = LlamaConfig(vocab_size=len(fast), hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                         num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=256)
    folder = tmp_path_factory.mktemp("tiny-llama")
    LlamaForCausalLM(config).save_pretrained(folder)
    fast.save_pretrained(folder)
    return TransformersBackend(folder, num_threads=1, batch_size=3), items


def test_shared_prefix_equals_full_rescoring(tiny_model):
    backend, items = tiny_model
    for lang, group in (("hi", "month-00"), ("zh", "weekday"), ("de", "category-02")):
        members = [item for item in items if item.lang == lang and item.score_group == group][:5]
        prompts = [item.prompt for item in members]
        options = sorted({text for item in members for text in item.option_texts})
        shared = np.array([[option.logprob for option in row] for row in backend.score(prompts, options)])
        full = naive_score(backend, prompts, options)
        assert np.abs(shared - full).max() < 1e-4
        lengths = {len(backend.tokenizer(text, add_special_tokens=False)["input_ids"]) for text in options}
        assert len(lengths) > 1  # options of different token lengths exercise the padded tail


def test_acc_is_argmax_of_summed_logprob(tiny_model):
    backend, items = tiny_model
    chosen = [item for item in items if item.lang in ("en", "hi")]
    table = score_items(backend, chosen)
    arrays = aligned_arrays(table)
    for (lang, item_id), rows in table.groupby(["lang", "item_id"]):
        row = arrays.languages.index(lang)
        column = arrays.item_ids.index(item_id)
        best = rows.sort_values("value").logprob.to_numpy().argmax()
        assert arrays.codes[arrays.pred[row, column]] == rows.sort_values("value").value.iloc[best]
