"""What a run keeps of its generated samples in ``samples.npz``: a bounded record.

A run keeps the first ``snapshot_size`` samples of every evaluation and the whole last
evaluation, which costs nothing for 2-D points (2,500 x 2 values) but grows without
bound for images: 25,600 stacked 28 x 28 images are 240 MB of float32 per evaluation.
So each snapshot is also capped in values (numbers stored), and large samples keep
fewer items per snapshot (image runs also draw a PNG grid of each evaluation). 2-D runs
keep exactly what they always kept.

Example:
    >>> kept_count(num_samples=2500, values_per_sample=2, limit=FINAL_VALUES)
    2500
    >>> kept_count(num_samples=25600, values_per_sample=3 * 28 * 28, limit=FINAL_VALUES)
    27
"""

from __future__ import annotations

import math

import numpy as np

SNAPSHOT_VALUES = 4_096  # values kept of each evaluation (16 KiB of float32): 2,048 2-D points
FINAL_VALUES = 65_536  # values kept of the last evaluation (256 KiB): 32,768 2-D points, 27 images


def kept_count(num_samples: int, values_per_sample: int, limit: int) -> int:
    """How many of ``num_samples`` samples fit in ``limit`` values (at least one)."""
    return min(num_samples, max(1, limit // max(1, values_per_sample)))


class SampleSnapshots:
    """The samples a run keeps: ``step_XXXXXXXX`` arrays per evaluation, and ``final``.

    Args:
        snapshot_size: samples kept of each evaluation, at most ``SNAPSHOT_VALUES`` values.
        arrays: snapshots kept so far (read back from a run on resume).
    """

    def __init__(self, snapshot_size: int, arrays: dict[str, np.ndarray] | None = None) -> None:
        self.snapshot_size = snapshot_size
        self.arrays: dict[str, np.ndarray] = dict(arrays or {})

    def add(self, step: int, values: np.ndarray) -> None:
        """Keep the start of one evaluation's samples (N, ...) as its snapshot and as ``final``."""
        per_sample = math.prod(values.shape[1:])
        count = min(self.snapshot_size, kept_count(len(values), per_sample, SNAPSHOT_VALUES))
        # Copies, so that the (possibly huge) evaluation batch is not kept alive by a view.
        self.arrays[f"step_{step:08d}"] = values[:count].copy()
        self.arrays["final"] = values[: kept_count(len(values), per_sample, FINAL_VALUES)].copy()
