"""The metrics layer: pure functions over tensors, with streaming forms where state is bounded."""

from __future__ import annotations

from collapsekit.metrics import keys
from collapsekit.metrics.equilibrium import (
    EQUILIBRIUM,
    OPTIMAL_D_LOSS,
    equilibrium_distance,
    to_probabilities,
    window_statistics,
)
from collapsekit.metrics.fidelity import (
    FID_MIN_SAMPLES,
    fid,
    inception_score,
    kid,
    mixture_log_posterior,
    mode_inception_score,
    mode_log_posterior,
)
from collapsekit.metrics.knn import kth_neighbour_distances
from collapsekit.metrics.manifold import (
    DENSITY_COVERAGE_K,
    PRECISION_RECALL_K,
    density_coverage,
    manifold_metrics,
    precision_recall,
)
from collapsekit.metrics.modes import DEFAULT_MIN_SHARE, ModeCoverage, mode_kl, mode_metrics
from collapsekit.metrics.ndb import NumberOfDifferentBins, ndb
from collapsekit.metrics.support import coinciding_pairs, duplicate_threshold, support_estimate

__all__ = [
    "DEFAULT_MIN_SHARE",
    "DENSITY_COVERAGE_K",
    "EQUILIBRIUM",
    "FID_MIN_SAMPLES",
    "ModeCoverage",
    "NumberOfDifferentBins",
    "OPTIMAL_D_LOSS",
    "PRECISION_RECALL_K",
    "coinciding_pairs",
    "density_coverage",
    "duplicate_threshold",
    "equilibrium_distance",
    "fid",
    "inception_score",
    "keys",
    "kid",
    "kth_neighbour_distances",
    "manifold_metrics",
    "mixture_log_posterior",
    "mode_inception_score",
    "mode_kl",
    "mode_log_posterior",
    "mode_metrics",
    "ndb",
    "precision_recall",
    "support_estimate",
    "to_probabilities",
    "window_statistics",
]
