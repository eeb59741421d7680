"""The tiny bilingual world: a miniature of MuBench v1's EN:ZH pretraining question, trained from scratch.

P synthetic people (one token each, the same in both languages) have three attributes: birth month
(12), country (20) and weekday of birth (7), rendered with CLDR names in English and Chinese. People
are split into A_en (facts only in English), A_zh (only in Chinese) and A_both. Parallel units
("EN fact" directly followed by the same "ZH fact") come only from A_both. **Transfer** = accuracy on
A_en facts asked in Chinese and A_zh facts asked in English: facts never seen in that language.

Every fact is 4 word tokens, ``name relation value .``, in both languages, so the name-to-value distance
is equal (a character-level world confounds tokenisation with language). Every training sequence starts
with the separator, and evaluation prompts are ``<sep> name relation``.

Two variants bracket the grid. Without *anchors* (``anchors=False``) no person is seen in both
languages: nothing in the data ties an English value to its Chinese name, so transfer must sit at
chance (the chance bracket). With *shared values* (``shared_values=True``) a value is one
language-neutral token in both languages, so only the relation word differs (the shared-vocabulary
control: value translation made free).

>>> world = build_world(WorldConfig(n_people=6))
>>> [len(group) for group in world.groups.values()]
[2, 2, 2]
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass

import numpy as np

__all__ = ["WorldConfig", "World", "build_world", "sample_batch", "run_world", "permutation_null", "relabelling_null",
           "grid_label",
           "parse_grid_label"]

ATTRIBUTES = ("month", "country", "weekday")
COUNTRIES = ("FR", "DE", "JP", "BR", "IN", "EG", "KE", "MX", "CA", "AU", "RU", "IT", "ES", "NG", "AR", "TR", "SE",
             "VN", "TH", "PE")
RELATIONS = {"en": {"month": "born-in", "country": "lives-in", "weekday": "born-on"},
             "zh": {"month": "出生于", "country": "住在", "weekday": "生于"}}
END = {"en": ".", "zh": "。"}


@dataclass(frozen=True)
class WorldConfig:
    """One training run. ``oracle``: every fact in both languages; ``p_parallel``: share of parallel units;
    ``anchors=False``: no person in both languages; ``shared_values``: one value token for both languages."""

    n_people: int = 30
    r_en: float = 0.5
    p_parallel: float = 0.0
    oracle: bool = False
    steps: int = 800
    batch: int = 64
    slots: int = 7  # 4-token fact slots per sequence (context = 1 + 4 · slots)
    d_model: int = 128
    layers: int = 2
    heads: int = 4
    lr: float = 3e-3
    seed: int = 0
    eval_every: int = 100
    time_budget_s: float = 0.0
    stop_when_memorised: bool = False  # end at the first evaluation with every seen fact right
    device: str = "cpu"  # auto | cpu | cuda (reprobook.devices); CPU results do not depend on it
    anchors: bool = True
    shared_values: bool = False

    def __post_init__(self) -> None:
        if not 0.0 < self.r_en < 1.0:
            raise ValueError(f"WorldConfig.r_en must be in (0, 1), got {self.r_en!r}")
        if not 0.0 <= self.p_parallel < 1.0:
            raise ValueError(f"WorldConfig.p_parallel must be in [0, 1), got {self.p_parallel!r}")
        if not self.anchors and (self.p_parallel or self.oracle):
            raise ValueError("WorldConfig.anchors=False (no person in both languages) allows neither parallel "
                             "units (p_parallel > 0) nor the oracle")


def grid_label(r_en: float, p_parallel: float) -> str:
    """The run label of one cell of the EN-ratio × parallel-share grid.

    >>> grid_label(0.5, 0.2), parse_grid_label("en0.5-par0.2"), parse_grid_label("oracle")
    ('en0.5-par0.2', (0.5, 0.2), None)
    """
    return f"en{r_en:g}-par{p_parallel:g}"


def parse_grid_label(label: str) -> tuple[float, float] | None:
    """(r_en, p_parallel) of a grid label, None for any other run (a control)."""
    match = re.fullmatch(r"en([0-9.e-]+)-par([0-9.e-]+)", label)
    return (float(match[1]), float(match[2])) if match else None


def _value_names(lang: str) -> dict[str, list[str]]:
    from babel import Locale

    locale = Locale(lang)
    return {"month": [str(locale.months["stand-alone"]["wide"][m]) for m in range(1, 13)],
            "country": [str(locale.territories[code]) for code in COUNTRIES],
            "weekday": [str(locale.days["stand-alone"]["wide"][d]) for d in range(7)]}


@dataclass
class World:
    vocab: list[str]
    index: dict[str, int]
    names: list[str]
    facts: np.ndarray  # people × 3 canonical values
    groups: dict[str, list[int]]  # en / zh / both → people
    value_tokens: dict[tuple[str, str], np.ndarray]  # (lang, attribute) → token ids of the K values

    def fact_tokens(self, person: int, attribute: int, lang: str) -> list[int]:
        name = ATTRIBUTES[attribute]
        value = self.value_tokens[(lang, name)][self.facts[person, attribute]]
        return [self.index[self.names[person]], self.index[RELATIONS[lang][name]], int(value), self.index[END[lang]]]


def build_world(config: WorldConfig) -> World:
    """Names, facts, exposure groups and the word vocabulary (deterministic in ``config.seed``)."""
    rng = np.random.default_rng([config.seed, 1])
    syllables = ["ka", "lo", "mi", "ne", "ru", "sa", "to", "vi", "ze", "po", "da", "fu"]
    names: list[str] = []
    while len(names) < config.n_people:
        name = "".join(rng.choice(syllables, size=3)).capitalize()
        if name not in names:
            names.append(name)
    facts = np.stack([rng.integers(0, k, size=config.n_people) for k in (12, 20, 7)], axis=1)
    order = rng.permutation(config.n_people)
    if config.anchors:  # thirds: A_en, A_zh, A_both
        third = config.n_people // 3
        parts = (order[:third], order[third:2 * third], order[2 * third:])
    else:  # halves and no A_both
        half = config.n_people // 2
        parts = (order[:half], order[half:], order[:0])
    groups = {group: sorted(part.tolist()) for group, part in zip(("en", "zh", "both"), parts, strict=True)}
    vocab = ["<sep>"] + names + [".", "。"] + [rel for lang in RELATIONS for rel in RELATIONS[lang].values()]
    value_tokens = {}
    for lang in ("en", "zh"):
        for attribute, values in _value_names(lang).items():
            if config.shared_values and lang == "zh":
                value_tokens[(lang, attribute)] = value_tokens[("en", attribute)]
                continue
            ids = []
            for index, value in enumerate(values):
                vocab.append(f"{attribute}:{index}" if config.shared_values else f"{lang}:{value}")
                ids.append(len(vocab) - 1)
            value_tokens[(lang, attribute)] = np.array(ids)
    return World(vocab, {token: i for i, token in enumerate(vocab)}, names, facts, groups, value_tokens)


def _exposure(world: World, config: WorldConfig) -> dict[str, list[int]]:
    if config.oracle:
        everyone = sorted(range(len(world.names)))
        return {"en": everyone, "zh": everyone, "both": world.groups["both"]}
    return {"en": world.groups["en"] + world.groups["both"], "zh": world.groups["zh"] + world.groups["both"],
            "both": world.groups["both"]}


def sample_batch(world: World, config: WorldConfig, rng: np.random.Generator) -> np.ndarray:
    """``batch`` sequences of 1 + 4·slots tokens; each starts with ``<sep>``.

    A slot holds one monolingual fact (English with probability r_en) or, with probability p_parallel,
    the first half of a parallel unit whose Chinese half fills the next slot.
    """
    seen = _exposure(world, config)
    out = np.empty((config.batch, 1 + 4 * config.slots), dtype=np.int64)
    out[:, 0] = world.index["<sep>"]
    for row in range(config.batch):
        tokens: list[int] = []
        while len(tokens) < 4 * config.slots:
            attribute = int(rng.integers(0, 3))
            if config.p_parallel and rng.random() < config.p_parallel and len(tokens) <= 4 * (config.slots - 2):
                person = int(rng.choice(seen["both"]))
                tokens += world.fact_tokens(person, attribute, "en") + world.fact_tokens(person, attribute, "zh")
            else:
                lang = "en" if rng.random() < config.r_en else "zh"
                tokens += world.fact_tokens(int(rng.choice(seen[lang])), attribute, lang)
        out[row, 1:] = tokens
    return out


def _model(vocab: int, context: int, config: WorldConfig):
    import torch
    from torch import nn

    class TinyGPT(nn.Module):
        def __init__(self):
            super().__init__()
            self.embed = nn.Embedding(vocab, config.d_model)
            self.position = nn.Embedding(context, config.d_model)
            layer = nn.TransformerEncoderLayer(config.d_model, config.heads, 4 * config.d_model, dropout=0.0,
                                               batch_first=True, norm_first=True)
            self.body = nn.TransformerEncoder(layer, config.layers, enable_nested_tensor=False)
            self.norm = nn.LayerNorm(config.d_model)
            self.head = nn.Linear(config.d_model, vocab)

        def forward(self, ids):
            length = ids.shape[1]
            mask = torch.triu(torch.full((length, length), float("-inf"), device=ids.device), diagonal=1)
            hidden = self.embed(ids) + self.position(torch.arange(length, device=ids.device))[None]
            return self.head(self.norm(self.body(hidden, mask=mask, is_causal=True)))

    return TinyGPT()


def evaluate(model, world: World) -> dict[str, np.ndarray]:
    """Scores of every (person, attribute, language) over the attribute's K localised values (one forward)."""
    import torch

    prompts, keys = [], []
    for lang in ("en", "zh"):
        for attribute, name in enumerate(ATTRIBUTES):
            for person in range(len(world.names)):
                prompts.append([world.index["<sep>"], world.index[world.names[person]],
                                world.index[RELATIONS[lang][name]]])
                keys.append((lang, attribute, person))
    device = next(model.parameters()).device
    with torch.inference_mode():
        logp = torch.log_softmax(model(torch.tensor(prompts, device=device))[:, -1], dim=-1).cpu().numpy()
    scores = {}
    for row, (lang, attribute, person) in enumerate(keys):
        scores[(lang, attribute, person)] = logp[row, world.value_tokens[(lang, ATTRIBUTES[attribute])]]
    return scores


def _summarise(world: World, scores) -> dict:
    """Predictions per fact and language; in-language and transfer correctness arrays."""
    rows = []
    for attribute in range(3):
        for person in range(len(world.names)):
            group = next(g for g, members in world.groups.items() if person in members)
            truth = int(world.facts[person, attribute])
            en, zh = scores[("en", attribute, person)], scores[("zh", attribute, person)]
            rows.append({"person": person, "attribute": ATTRIBUTES[attribute], "group": group, "truth": truth,
                         "pred_en": int(en.argmax()), "pred_zh": int(zh.argmax()), "scores_en": en, "scores_zh": zh})
    return rows


def run_world(config: WorldConfig) -> dict:
    """Train one tiny GPT on the world (1 torch thread) and evaluate every ``eval_every`` steps."""
    import pandas as pd
    import torch

    from reprobook.devices import torch_device

    torch.set_num_threads(1)
    torch.manual_seed(config.seed)
    device = torch_device(config.device)
    world = build_world(config)
    context = 1 + 4 * config.slots
    model = _model(len(world.vocab), context, config).to(device)
    optimiser = torch.optim.AdamW(model.parameters(), lr=config.lr, weight_decay=0.01)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimiser, lambda step: 0.5 * (1 + np.cos(np.pi * min(step, config.steps) / config.steps)))
    rng = np.random.default_rng([config.seed, 2])
    curve = []
    started, cpu = time.perf_counter(), time.process_time()
    step = 0
    for step in range(1, config.steps + 1):
        batch = torch.from_numpy(sample_batch(world, config, rng)).to(device)
        logits = model(batch[:, :-1])
        loss = torch.nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), batch[:, 1:].reshape(-1))
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
        schedule.step()
        if step % config.eval_every == 0 or step == config.steps:
            facts = pd.DataFrame(_summarise(world, evaluate(model, world)))
            seen, transfer = _split(facts)
            agree = float((facts.pred_en == facts.pred_zh).mean())
            curve.append({"step": step, "loss": float(loss.detach()), "in_language": float(seen.mean()),
                          "transfer": float(transfer.mean()), "agreement_en_zh": agree})
            if config.stop_when_memorised and seen.mean() == 1.0:
                break
        if config.time_budget_s and time.perf_counter() - started > config.time_budget_s:
            break
    facts = pd.DataFrame(_summarise(world, evaluate(model, world)))
    memorised = bool(curve) and curve[-1]["in_language"] == 1.0
    return {"facts": facts, "curve": pd.DataFrame(curve), "steps_done": step, "steps": config.steps,
            "memorised": memorised, "device": device,
            "wall_s": time.perf_counter() - started, "cpu_s": time.process_time() - cpu,
            "tokens": step * config.batch * (context - 1), "n_params": sum(p.numel() for p in model.parameters())}


def _split(facts) -> tuple[np.ndarray, np.ndarray]:
    """(in-language correctness of seen facts, transfer correctness of unseen-language facts)."""
    en_ok = (facts.pred_en == facts.truth).to_numpy()
    zh_ok = (facts.pred_zh == facts.truth).to_numpy()
    group = facts.group.to_numpy()
    seen = np.concatenate([en_ok[group != "zh"], zh_ok[group != "en"]])
    transfer = np.concatenate([zh_ok[group == "en"], en_ok[group == "zh"]])
    return seen.astype(float), transfer.astype(float)


def transfer_correct(facts) -> np.ndarray:
    """Correctness of the transfer facts (A_en asked in Chinese, then A_zh asked in English)."""
    return _split(facts)[1]


def in_language_correct(facts) -> np.ndarray:
    return _split(facts)[0]


def permutation_null(facts, *, n_permutations: int = 10_000, seed: int = 0) -> np.ndarray:
    """Transfer accuracy when the model's predictions are shuffled across people within (attribute, direction).

    Keeps the model's own value preferences (a model that always says "January" keeps saying it), but
    treats people as independent: it is anti-conservative for a model that answers with a consistent,
    arbitrary value mapping; :func:`relabelling_null` is the chance reference the chapter judges with.
    """
    rng = np.random.default_rng(seed)
    blocks = []
    for attribute in ATTRIBUTES:
        for group, column in (("en", "pred_zh"), ("zh", "pred_en")):
            sub = facts[(facts.attribute == attribute) & (facts.group == group)]
            if len(sub) == 0:
                continue
            blocks.append((sub[column].to_numpy(), sub.truth.to_numpy()))
    total = sum(len(pred) for pred, _ in blocks)
    out = np.empty(n_permutations)
    for draw in range(n_permutations):
        out[draw] = sum(int((pred[rng.permutation(len(pred))] == truth).sum()) for pred, truth in blocks) / total
    return out


def relabelling_null(facts, *, n_permutations: int = 10_000, seed: int = 0) -> np.ndarray:
    """Transfer accuracy when the asked language's values are relabelled by a random permutation, drawn
    independently per (attribute, direction).

    The exact null of "the model does not know which Chinese value is which English value": without
    that knowledge the target language's value labels are exchangeable, so any consistent but
    arbitrary mapping the model learned (every person born in March answered with the same Chinese
    month) is as likely as its relabellings. Unlike :func:`permutation_null`, which shuffles predictions
    across people and so treats people as independent, it keeps such clusters together.

    >>> import pandas as pd
    >>> facts = pd.DataFrame({"attribute": ["weekday"] * 4, "group": ["en", "en", "zh", "zh"],
    ...                       "truth": [0, 1, 2, 3], "pred_en": [0, 0, 2, 3], "pred_zh": [0, 1, 0, 0]})
    >>> float(relabelling_null(facts, n_permutations=20_000).mean().round(2))  # 1/K with K = 7
    0.14
    """
    rng = np.random.default_rng(seed)
    sizes = dict(zip(ATTRIBUTES, (12, 20, 7), strict=True))
    blocks = []
    for attribute in ATTRIBUTES:
        for group, column in (("en", "pred_zh"), ("zh", "pred_en")):
            sub = facts[(facts.attribute == attribute) & (facts.group == group)]
            if len(sub):
                blocks.append((sizes[attribute], sub[column].to_numpy(), sub.truth.to_numpy()))
    total = sum(len(pred) for _, pred, _ in blocks)
    hits = np.zeros(n_permutations)
    for size, pred, truth in blocks:
        relabel = rng.random((n_permutations, size)).argsort(axis=1)  # one random permutation per draw
        hits += (relabel[:, pred] == truth[None, :]).sum(axis=1)
    return hits / total
