"""Birthday-paradox support size (Arora & Zhang 2017) for data without labels.

If a distribution is uniform over S distinguishable items, two of N samples
coincide with probability 1/S per pair, so the number of coinciding pairs is
about C(N, 2) / S and ``S ~ C(N, 2) / coinciding pairs``. (For a non-uniform
distribution this estimates 1 / sum p_i^2, the collision support.) A batch of
about sqrt(S) samples then holds a duplicate with probability near 1/2, the
test Arora and Zhang ran by eye. Here two samples "coincide" when their
distance is at most ``threshold``; ``duplicate_threshold`` derives one from real
samples, so the real set's own estimate is the yardstick for the generator's.
All pairs are counted by the chunked engine, without an N x N matrix.
"""

from __future__ import annotations

import logging
import math

import torch

from collapsekit.errors import CollapsekitError
from collapsekit.metrics.inputs import check_features
from collapsekit.metrics.knn import (
    NeighbourRadii,
    PointCloud,
    kth_neighbour_distances,
)
from collapsekit.metrics.knn_balls import Balls, count_in_balls
from collapsekit.metrics.knn_blocks import resolve_device

logger = logging.getLogger(__name__)


def coinciding_pairs(
    samples: torch.Tensor,
    threshold: float,
    chunk_size: int | None = None,
    device: str | torch.device | None = None,
) -> int:
    """Number of unordered pairs of samples (N, D) at distance at most ``threshold``.

    Example:
        >>> coinciding_pairs(torch.tensor([[0.0], [0.0], [1.0]]), threshold=0.0)
        1
    """
    samples = check_features(samples, "samples", min_rows=2)
    if not (isinstance(threshold, (int, float)) and math.isfinite(threshold) and threshold >= 0):
        raise CollapsekitError(f"threshold must be a finite distance >= 0, got {threshold!r}")
    cloud = PointCloud(samples.to(resolve_device(samples, device)), chunk_size=chunk_size)
    balls = Balls(NeighbourRadii.fixed(cloud, float(threshold)), inclusive=True)
    (counts,), _ = count_in_balls(cloud, cloud, row_balls=[balls])
    return (
        int(counts.points_inside.sum()) - cloud.size
    ) // 2  # every point holds itself; pairs count twice


def support_estimate(
    samples: torch.Tensor,
    threshold: float,
    chunk_size: int | None = None,
    device: str | torch.device | None = None,
) -> float:
    """Estimated number of distinguishable items the samples (N, D) come from; inf without coincidences.

    Example:
        >>> points = torch.arange(4.0).repeat(50).unsqueeze(1)  # 200 samples of 4 items
        >>> round(support_estimate(points, threshold=0.1), 2)  # C(200, 2) / (4 C(50, 2))
        4.06
    """
    pairs = coinciding_pairs(samples, threshold, chunk_size, device)
    size = samples.shape[0]
    if pairs == 0:
        logger.info(
            "no two of %d samples lie within %g: support exceeds %d",
            size,
            threshold,
            size * (size - 1) // 2,
        )
        return math.inf
    return size * (size - 1) / 2 / pairs


def duplicate_threshold(real: torch.Tensor, chunk_size: int | None = None) -> float:
    """Median distance from a real sample to its nearest real neighbour: a scale for "coinciding".

    Example:
        >>> duplicate_threshold(torch.tensor([[0.0], [1.0], [3.0], [4.0]]))
        1.0
    """
    real = check_features(real, "real samples", min_rows=2)
    return float(kth_neighbour_distances(real, 1, chunk_size).median())
