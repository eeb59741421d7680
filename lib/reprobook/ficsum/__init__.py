"""FiCSUM: concept fingerprints from supervised and unsupervised meta-information.

Implements Halstead, Koh, Riddle, Pechenizkiy, Bifet and Pears, *Fingerprinting Concepts in Data
Streams with Supervised and Unsupervised Meta-Information*, IEEE ICDE 2021 (arXiv 2603.11094),
from the method description of the chapter brief: a river classifier that fingerprints each
concept by meta-features of windows, detects drift from the weighted cosine distance to the active
fingerprint, and reuses the classifier of a recurring concept.

>>> from reprobook.ficsum import FiCSUMClassifier, make_stream
>>> stream = make_stream("stagger", seed=1, segment_length=300, repeats=1)
>>> model = FiCSUMClassifier()
>>> for x, y, _ in stream:
...     _ = model.predict_one(x)
...     model.learn_one(x, y)
>>> model.n_concepts >= 1
True
"""

from .chapter import ChapterParameters, validate_parameters
from .classifier import DEFAULT_FEATURES, FEATURES, SOURCE_GROUPS, FiCSUMClassifier
from .experiments import METHODS, VARIANTS, StreamResult, StreamRun, ficsum_variant, run_stream
from .fingerprint import Fingerprint, Normaliser, dynamic_weights, weighted_cosine_distance
from .metafeatures import STATISTICS, RollingStatistics, series_metafeatures, window_statistics
from .metrics import accuracy, cohen_kappa, concept_f1, kappa_label_marginal, kappa_m, kappa_t
from .streams import REAL_STREAMS, STREAMS, SYNTHETIC_STREAMS, make_stream, recurring_stream

__all__ = [
    "FiCSUMClassifier",
    "SOURCE_GROUPS",
    "FEATURES",
    "DEFAULT_FEATURES",
    "STATISTICS",
    "RollingStatistics",
    "window_statistics",
    "series_metafeatures",
    "Normaliser",
    "Fingerprint",
    "dynamic_weights",
    "weighted_cosine_distance",
    "accuracy",
    "cohen_kappa",
    "kappa_label_marginal",
    "kappa_m",
    "kappa_t",
    "concept_f1",
    "STREAMS",
    "SYNTHETIC_STREAMS",
    "REAL_STREAMS",
    "make_stream",
    "recurring_stream",
    "METHODS",
    "VARIANTS",
    "StreamRun",
    "StreamResult",
    "run_stream",
    "ficsum_variant",
    "ChapterParameters",
    "validate_parameters",
]
