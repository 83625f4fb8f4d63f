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
from collapsekit.metrics.modes import DEFAULT_MIN_SHARE, ModeCoverage, mode_kl, mode_metrics

__all__ = [
    "DEFAULT_MIN_SHARE",
    "EQUILIBRIUM",
    "OPTIMAL_D_LOSS",
    "ModeCoverage",
    "equilibrium_distance",
    "keys",
    "mode_kl",
    "mode_metrics",
    "to_probabilities",
    "window_statistics",
]
