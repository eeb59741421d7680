"""SEFT: repairing one-shot-pruned language models with an evolving sparse delta (Xiao et al., CPAL 2026).

Modules: :mod:`~reprobook.seft.text` (the Shakespeare/Milton corpus, character tokens),
:mod:`~reprobook.seft.model` (ShakeGPT), :mod:`~reprobook.seft.prune` (magnitude, Wanda, SparseGPT),
:mod:`~reprobook.seft.delta` (the sparse delta and the SEFT topology update),
:mod:`~reprobook.seft.train` (pre-training, repair methods, evaluation),
:mod:`~reprobook.seft.chapter` (parameters, configs, headline numbers).
"""
