"""MuBench in miniature: an aligned CLDR probe over MuBench's 61 languages, multiple-choice scoring
through :mod:`reprobook.lm` backends, and consistency metrics (agreement, Cohen's κ, RankC, MLC).

>>> from reprobook.mubench.consistency import agreement_matrix
>>> agreement_matrix([[0, 1], [0, 2]]).tolist()
[[1.0, 0.5], [0.5, 1.0]]
"""
