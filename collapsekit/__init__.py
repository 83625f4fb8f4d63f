"""collapsekit: tells whether, when and how a GAN's generator collapses.

Example:
    >>> import collapsekit
    >>> ring = collapsekit.get_dataset("ring8")
    >>> collapsekit.mode_metrics(ring.sample(2500), ring)["modes_captured"]
    8
"""

from __future__ import annotations

from collapsekit.d_map import read_d_map, write_d_map
from collapsekit.data import (
    Dataset,
    GaussianMixture,
    get_dataset,
    list_datasets,
    load_dataset_file,
    register_dataset,
)
from collapsekit.diagnose import Finding, Thresholds, diagnose
from collapsekit.errors import CollapsekitError, DiskFullError, RunFolderError
from collapsekit.evaluate import evaluate, feature_metrics
from collapsekit.features import get_feature_extractor, register_feature_extractor
from collapsekit.metrics import ModeCoverage, keys, mode_kl, mode_metrics, window_statistics
from collapsekit.monitor import Monitor, Summary
from collapsekit.runs import RunDir, load_history, load_runs
from collapsekit.samples_io import load_samples

__version__ = "0.1.0"

__all__ = [
    "evaluate",
    "feature_metrics",
    "get_feature_extractor",
    "load_samples",
    "register_feature_extractor",
    "CollapsekitError",
    "DiskFullError",
    "Dataset",
    "GaussianMixture",
    "Finding",
    "ModeCoverage",
    "Monitor",
    "RunDir",
    "RunFolderError",
    "Summary",
    "Thresholds",
    "diagnose",
    "get_dataset",
    "keys",
    "list_datasets",
    "load_dataset_file",
    "load_history",
    "load_runs",
    "mode_kl",
    "mode_metrics",
    "read_d_map",
    "register_dataset",
    "window_statistics",
    "write_d_map",
]
