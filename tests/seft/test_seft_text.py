"""The n-gram baseline against a brute-force count; the vectorised tokenizer against a per-character lookup."""

import math
from collections import Counter

import pytest
import torch

from reprobook.seft.text import CharTokenizer, ngram_loss


@pytest.mark.parametrize("order", [1, 2, 3])
def test_ngram_loss_matches_brute_force_counts(order):
    generator = torch.Generator().manual_seed(order)
    vocab = 5
    train = torch.randint(0, vocab, (400,), generator=generator)
    val = torch.randint(0, vocab, (120,), generator=generator)
    grams = Counter(tuple(train[i:i + order].tolist()) for i in range(len(train) - order + 1))
    contexts = Counter()
    for gram, count in grams.items():
        contexts[gram[:-1]] += count
    add = 0.1
    losses = []
    for i in range(len(val) - order + 1):
        gram = tuple(val[i:i + order].tolist())
        losses.append(-math.log((grams[gram] + add) / (contexts[gram[:-1]] + add * vocab)))
    assert ngram_loss(train, val, vocab, order, add) == pytest.approx(sum(losses) / len(losses), rel=1e-12)


def test_tokenizer_matches_a_per_character_lookup():
    text = "To be, or not to be: that is the question.\nÆ ñ"
    tokenizer = CharTokenizer(text)
    assert tokenizer.encode(text).tolist() == [tokenizer.index[char] for char in text]
    with pytest.raises(KeyError, match="outside the alphabet"):
        tokenizer.encode("z~")
