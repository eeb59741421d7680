"""REOBench in miniature: robustness of Earth-observation backbones to image corruptions.

Li et al., *REOBench: Benchmarking Robustness of Earth Observation Foundation Models* (arXiv 2505.16793,
2025). The 12 corruptions follow the benchmark's names and five severities; by default with the settings of
its published generator (:mod:`~reprobook.reobench.official`), optionally with ImageNet-C-style settings
(:data:`~reprobook.reobench.corrupt.SEVERITY_TABLE`, ``table="imagenet_c"``).

Modules: :mod:`~reprobook.reobench.noise` (fractal noise), :mod:`~reprobook.reobench.synth` (procedural
aerial scenes), :mod:`~reprobook.reobench.corrupt` (the 12 corruptions as batched torch functions
``(images, severity) -> images``), :mod:`~reprobook.reobench.jpeg` (baseline JPEG in torch),
:mod:`~reprobook.reobench.models` (backbones and their pre-training), :mod:`~reprobook.reobench.probe`
(linear probes and controls), :mod:`~reprobook.reobench.segmentation` (the 1 × 1-convolution segmentation
probe and mIoU), :mod:`~reprobook.reobench.metrics` (drops, mCE, mRR),
:mod:`~reprobook.reobench.experiments` and :mod:`~reprobook.reobench.chapter` (the chapter's runs),
:mod:`~reprobook.reobench.ledger` (the claims and the per-seed numbers they judge).
"""

from reprobook.reobench.corrupt import APPEARANCE, CORRUPTIONS, GEOMETRIC, SEVERITY_TABLE, corrupt
from reprobook.reobench.synth import CLASSES, LAND_COVER, SceneDataset, generate_scenes

__all__ = ["APPEARANCE", "CORRUPTIONS", "GEOMETRIC", "SEVERITY_TABLE", "corrupt", "CLASSES", "LAND_COVER",
           "SceneDataset", "generate_scenes"]
