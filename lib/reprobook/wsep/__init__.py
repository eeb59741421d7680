"""Where do skills go? MISL vs Wasserstein skill discovery on the occupancy polytope.

Yang, Zhou, He, Han, Pechenizkiy, Fang: *Task Adaptation from Skills: Information Geometry,
Disentanglement, and New Objectives for Unsupervised Reinforcement Learning*, ICLR 2024
(arXiv 2506.10629). No official code exists; the definitions here are reconstructed from the
paper's abstract and the geometry of Eysenbach et al. (ICLR 2022) that it extends, and each
reconstructed one says so in its docstring.

Modules: :mod:`~reprobook.wsep.mdp` (tabular processes), :mod:`~reprobook.wsep.occupancy`
(occupancies), :mod:`~reprobook.wsep.polytope` (vertices), :mod:`~reprobook.wsep.information`
(MISL, LSEPIN), :mod:`~reprobook.wsep.transport` (Wasserstein, Sinkhorn),
:mod:`~reprobook.wsep.discovery` (MISL-k, WSEP, PWSEP), :mod:`~reprobook.wsep.adaptation`
(downstream costs), :mod:`~reprobook.wsep.learners` (gradient skill learners),
:mod:`~reprobook.wsep.experiments` and :mod:`~reprobook.wsep.chapter` (the chapter's runs).
"""
