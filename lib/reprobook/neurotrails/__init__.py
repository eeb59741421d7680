"""NeuroTrails (Grooten et al., 2025, arXiv 2505.17909): sparse multi-head ensembles, on MNIST-1D.

A shared trunk and M heads, each head sparse with a dynamic topology (RigL, from :mod:`reprobook.sparse`),
compared with a single network, a full ensemble and a dense multi-head TreeNet.

Modules: :mod:`~reprobook.neurotrails.mnist1d` (the data generator), :mod:`~reprobook.neurotrails.heads`
(the 1-D ResNet and its multi-head split), :mod:`~reprobook.neurotrails.metrics` (ensemble metrics),
:mod:`~reprobook.neurotrails.experiments` (one training run per config), :mod:`~reprobook.neurotrails.chapter`
(the notebook's parameters, grid and summaries).
"""

from reprobook.neurotrails.experiments import RunConfig, RunResult, run_method
from reprobook.neurotrails.heads import MultiHeadResNet1d, build_model
from reprobook.neurotrails.metrics import ensemble_metrics
from reprobook.neurotrails.mnist1d import GeneratorSettings, generate, make_splits

__all__ = ["RunConfig", "RunResult", "run_method", "MultiHeadResNet1d", "build_model", "ensemble_metrics",
           "GeneratorSettings", "generate", "make_splits"]
