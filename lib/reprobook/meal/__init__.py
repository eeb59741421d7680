"""MEAL: continual multi-agent reinforcement learning on procedurally generated Overcooked.

Tomilin et al., *MEAL: A Benchmark for Continual Multi-Agent Reinforcement Learning*, ICML 2026
(arXiv 2506.14990), re-implemented in pure JAX:

* :mod:`~reprobook.meal.env` — N-agent Overcooked with pure ``reset``/``step`` (kitchens as data);
* :mod:`~reprobook.meal.layouts`, :mod:`~reprobook.meal.generator`, :mod:`~reprobook.meal.normaliser`
  — presets, the procedural generator and validator, the max-soups normaliser;
* :mod:`~reprobook.meal.network`, :mod:`~reprobook.meal.ippo` — the shared actor-critic and the
  fused, jitted IPPO update;
* :mod:`~reprobook.meal.continual` — FT, L2, EWC, Online EWC, MAS, Online MAS as data;
* :mod:`~reprobook.meal.metrics` — average performance, forgetting, forward transfer, plasticity;
* :mod:`~reprobook.meal.experiments`, :mod:`~reprobook.meal.chapter` — the chapter's runs.

>>> from reprobook.meal import OvercookedEnv, preset
>>> OvercookedEnv(n_agents=2).action_space().n
6
"""

from reprobook.meal.compilation import enable_compilation_cache
from reprobook.meal.env import EnvState, OvercookedEnv
from reprobook.meal.generator import LEVELS, generate_layout, generate_sequence, validate
from reprobook.meal.layouts import Layout, LayoutArrays, parse_ascii, preset, stack_layouts, take_task
from reprobook.meal.normaliser import max_soup

__all__ = ["enable_compilation_cache", "EnvState", "OvercookedEnv", "LEVELS", "generate_layout",
           "generate_sequence", "validate", "Layout", "LayoutArrays", "parse_ascii", "preset",
           "stack_layouts", "take_task", "max_soup"]
