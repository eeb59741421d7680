"""reprobook: the shared kit of a reproducible research book.

Ten machine-learning papers are re-implemented in subpackages (``reprobook.<slug>``) and re-run in
parameterised notebooks. The kit holds what every chapter shares: the runner (:mod:`reprobook.run`),
profiles and parameter checks (:mod:`reprobook.params`), the dataset registry
(:mod:`reprobook.data`), cached grids (:mod:`reprobook.sweep`), the claims ledger
(:mod:`reprobook.claims`) and the plotting theme (:mod:`reprobook.plotting`).
"""

__version__ = "0.1.0"
