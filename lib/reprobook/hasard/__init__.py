"""HASARD in miniature: safe reinforcement learning from pixels in ViZDoom (Tomilin et al., ICLR 2025).

The PyPI package ``hasard`` ships the scenarios' maps and configs but not their code, so this
subpackage provides the environments (gymnasium API, costs from the paper's §3), a vectorised
visitation heatmap, a tiny constrained MDP with PPO, PPO-Lagrangian and PPO-PID, and the chapter's
experiments.
"""

from reprobook.hasard.assets import SCENARIOS, config_path, scenario_root, wad_path

__all__ = ["SCENARIOS", "config_path", "scenario_root", "wad_path"]
