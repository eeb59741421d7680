"""SafeTutors (Hazra et al., 2026): a SafeTutors-style harness for the pedagogical safety of AI tutors.

Modules: :mod:`~reprobook.safetutors.taxonomy` (11 dimensions, 48 sub-risks as data),
:mod:`~reprobook.safetutors.problems` (seeded STEM generators with computed answers),
:mod:`~reprobook.safetutors.students` (scripted single-turn items and crescendo dialogues),
:mod:`~reprobook.lm` (the ``Backend`` protocol: stub, transformers, HTTP),
:mod:`~reprobook.safetutors.tutors` (control tutors with planted harm labels),
:mod:`~reprobook.safetutors.judges` (rule detectors and a yes/no model judge),
:mod:`~reprobook.safetutors.mrbench` (the human-labelled anchor), :mod:`~reprobook.safetutors.metrics`,
:mod:`~reprobook.safetutors.experiments` (sweepable runs) and :mod:`~reprobook.safetutors.chapter`.
"""
