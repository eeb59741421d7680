"""Where the project's folders are, and the catalogue of the book's ten chapters."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

__all__ = ["Chapter", "CHAPTERS", "PARTS", "project_root", "chapter_info", "user_cache_dir"]


@dataclass(frozen=True)
class Chapter:
    slug: str
    title: str
    paper: str
    citation_key: str
    part: str


PARTS = (
    "I. Evaluating language models",
    "II. Learning from streams and users",
    "III. Reinforcement learning",
    "IV. Sparse networks",
    "V. Robustness",
)

CHAPTERS: tuple[Chapter, ...] = (
    Chapter("safetutors", "SafeTutors: pedagogical safety of AI tutors",
            "Hazra et al., 2026 (arXiv 2603.17373)", "hazra2026safetutors", PARTS[0]),
    Chapter("mubench", "MuBench: multilingual evaluation across 61 languages",
            "Han et al., Findings of ACL 2026 (arXiv 2506.19468)", "han2026mubench", PARTS[0]),
    Chapter("ficsum", "FiCSUM: concept fingerprints for recurring drift",
            "Halstead et al., ICDE 2021 (arXiv 2603.11094)", "halstead2021ficsum", PARTS[1]),
    Chapter("recsys_bias", "Multifactorial bias and percentile pre-processing in recommendation",
            "Mansoury et al., 2026 (arXiv 2601.12828)", "mansoury2026multifactorial", PARTS[1]),
    Chapter("meal", "MEAL: continual multi-agent RL in procedurally generated Overcooked",
            "Tomilin et al., ICML 2026 (arXiv 2506.14990)", "tomilin2026meal", PARTS[2]),
    Chapter("wsep", "Where do skills go? MISL vs Wasserstein skill discovery",
            "Yang et al., ICLR 2024 (arXiv 2506.10629)", "yang2024wsep", PARTS[2]),
    Chapter("hasard", "HASARD: safe reinforcement learning in Doom",
            "Tomilin et al., ICLR 2025 (arXiv 2503.08241)", "tomilin2025hasard", PARTS[2]),
    Chapter("seft", "SEFT: sparse fine-tuning of pruned language models",
            "Xiao et al., CPAL 2026 (arXiv 2505.24037)", "xiao2026seft", PARTS[3]),
    Chapter("neurotrails", "NeuroTrails: sparse multi-head ensembles",
            "Grooten et al., 2025 (arXiv 2505.17909)", "grooten2025neurotrails", PARTS[3]),
    Chapter("reobench", "REOBench: robustness of Earth-observation models",
            "Li et al., 2025 (arXiv 2505.16793)", "li2025reobench", PARTS[4]),
)


def chapter_info(slug: str) -> Chapter | None:
    """The catalogue entry of ``slug``, or None for a chapter outside the catalogue."""
    return next((chapter for chapter in CHAPTERS if chapter.slug == slug), None)


def project_root() -> Path:
    """The project folder: ``REPROBOOK_ROOT``, else the checkout this package lives in, else cwd."""
    configured = os.environ.get("REPROBOOK_ROOT")
    if configured:
        return Path(configured).resolve()
    checkout = Path(__file__).resolve().parents[2]
    if (checkout / "notebooks").is_dir() and (checkout / "lib" / "reprobook").is_dir():
        return checkout
    return Path.cwd().resolve()


def user_cache_dir(kind: str, variable: str) -> Path:
    """The folder named by the environment ``variable``, else ``~/.cache/reprobook/<kind>``.

    >>> import os
    >>> user_cache_dir("data", "REPROBOOK_NO_SUCH_VARIABLE").parts[-2:]
    ('reprobook', 'data')
    """
    configured = os.environ.get(variable)
    if configured:
        return Path(configured).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "reprobook" / kind
