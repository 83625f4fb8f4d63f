"""What a run keeps of its generated samples in ``samples.npz``: a bounded record.

A run keeps the first ``snapshot_size`` samples of every evaluation and the whole last
evaluation, which costs little for points (2,500 x 2 values) but grows without bound
for images: 25,600 stacked 28 x 28 images are 240 MB of float32 per evaluation. So a
sample of more than ``POINT_VALUES`` values (an image, a 1200-D vector) is kept within
a budget of values per snapshot, and larger samples keep fewer items (the reference
trainers also draw a PNG grid of each evaluation of image data). Points are kept as
asked, exactly as before the budget existed.

Example:
    >>> kept_count(num_samples=2500, values_per_sample=2, limit=FINAL_VALUES)
    2500
    >>> kept_count(num_samples=25600, values_per_sample=3 * 28 * 28, limit=FINAL_VALUES)
    27
"""

from __future__ import annotations

import math

import numpy as np

POINT_VALUES = 16  # samples of at most this many values are points: never cut
SNAPSHOT_VALUES = 4_096  # values kept of each evaluation (16 KiB of float32): 21 8 x 8 x 3 images
FINAL_VALUES = 65_536  # values kept of the last evaluation (256 KiB): 27 28 x 28 x 3 images
FINAL = "final"


def kept_count(num_samples: int, values_per_sample: int, limit: int) -> int:
    """How many of ``num_samples`` samples of ``values_per_sample`` values fit in ``limit``
    values (at least one); points (``values_per_sample <= POINT_VALUES``) all fit.

    Example:
        >>> kept_count(50_000, 2, FINAL_VALUES), kept_count(10, 10**6, SNAPSHOT_VALUES)
        (50000, 1)
    """
    if values_per_sample <= POINT_VALUES:
        return num_samples
    return min(num_samples, max(1, limit // values_per_sample))


class SampleSnapshots:
    """The samples a run keeps: ``step_XXXXXXXX`` arrays per evaluation, and ``final``.

    Args:
        snapshot_size: samples kept of each evaluation (fewer for large samples).
        arrays: snapshots kept so far (read back from a run on resume); they are cut to
            the same bounds, so a run written before the bounds existed shrinks.

    Example:
        >>> snapshots = SampleSnapshots(snapshot_size=1000)
        >>> snapshots.add(500, np.zeros((2500, 3, 28, 28), dtype=np.float32))
        >>> {name: len(array) for name, array in snapshots.arrays.items()}
        {'step_00000500': 1, 'final': 27}
    """

    def __init__(self, snapshot_size: int, arrays: dict[str, np.ndarray] | None = None) -> None:
        self.snapshot_size = snapshot_size
        self.arrays = {name: self._bounded(name, array) for name, array in (arrays or {}).items()}

    def add(self, step: int, values: np.ndarray) -> None:
        """Keep the start of one evaluation's samples (N, ...) as its snapshot and as ``final``."""
        self.arrays[f"step_{step:08d}"] = self._bounded(f"step_{step:08d}", values)
        self.arrays[FINAL] = self._bounded(FINAL, values)

    def _bounded(self, name: str, values: np.ndarray) -> np.ndarray:
        """The first samples of ``values`` that the snapshot ``name`` keeps (a copy, so a
        huge evaluation batch is not kept alive by a view)."""
        per_sample = math.prod(values.shape[1:])
        if name == FINAL:
            count = kept_count(len(values), per_sample, FINAL_VALUES)
        else:
            count = min(self.snapshot_size, kept_count(len(values), per_sample, SNAPSHOT_VALUES))
        return values[:count].copy()
