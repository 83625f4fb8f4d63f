"""Precision and recall (Kynkaanniemi et al. 2019), density and coverage (Naeem et al. 2020).

Each real (generated) sample gets a ball reaching to its k-th nearest real
(generated) neighbour, itself excluded:

- precision: share of generated samples inside at least one real ball (k = 3, ``d <= r``);
- recall: share of real samples inside at least one generated ball (k = 3, ``d <= r``);
- density: real balls containing each generated sample, averaged and divided by k (k = 5, ``d < r``);
- coverage: share of real balls containing at least one generated sample (k = 5, ``d < r``).

The ``<=`` and ``<`` follow the reference implementations, torch-fidelity 0.4
(``prc``) and prdc 0.2, whose values these functions reproduce on the same
features. A generator that drops modes loses recall and coverage; one that
produces off-manifold samples loses precision and density. All four come from
three distance passes of the chunked engine (``collapsekit.metrics.knn``).
"""

from __future__ import annotations

import torch

from collapsekit.metrics import keys
from collapsekit.metrics.inputs import check_feature_pair, neighbours_needed
from collapsekit.metrics.knn import PointCloud, neighbour_radii
from collapsekit.metrics.knn_balls import Balls, count_in_balls
from collapsekit.metrics.knn_blocks import resolve_device

PRECISION_RECALL_K = 3  # Kynkaanniemi et al. 2019
DENSITY_COVERAGE_K = 5  # Naeem et al. 2020


def precision_recall(
    real_features: torch.Tensor,
    fake_features: torch.Tensor,
    k: int = PRECISION_RECALL_K,
    chunk_size: int | None = None,
    device: str | torch.device | None = None,
) -> dict[str, float]:
    """Improved precision and recall of generated features against real ones.

    Args:
        real_features: (N, D) real features.
        fake_features: (M, D) generated features.
        k: neighbourhood size; each set needs at least k + 1 samples.
        chunk_size: pairwise distances held at once (memory bound); default 2**21,
            2**23 for features wider than 256 (taller blocks, faster products).
        device: where to compute; default CUDA when available, else the features' device.

    Example:
        >>> real = torch.randn(500, 8)
        >>> precision_recall(real, real.clone())
        {'precision': 1.0, 'recall': 1.0}
    """
    return manifold_metrics(real_features, fake_features, k, None, chunk_size, device)


def density_coverage(
    real_features: torch.Tensor,
    fake_features: torch.Tensor,
    k: int = DENSITY_COVERAGE_K,
    chunk_size: int | None = None,
    device: str | torch.device | None = None,
) -> dict[str, float]:
    """Density and coverage of generated features against real ones.

    Example:
        >>> real = torch.randn(500, 8)
        >>> density_coverage(real, real.clone())["coverage"]
        1.0
    """
    return manifold_metrics(real_features, fake_features, None, k, chunk_size, device)


def manifold_metrics(
    real_features: torch.Tensor,
    fake_features: torch.Tensor,
    precision_recall_k: int | None = PRECISION_RECALL_K,
    density_coverage_k: int | None = DENSITY_COVERAGE_K,
    chunk_size: int | None = None,
    device: str | torch.device | None = None,
) -> dict[str, float]:
    """Precision, recall, density and coverage together, from three distance passes.

    Pass ``None`` for a k to skip that pair of metrics.

    Example:
        >>> result = manifold_metrics(torch.randn(300, 4), torch.randn(300, 4))
        >>> sorted(result)
        ['coverage', 'density', 'precision', 'recall']
    """
    ks = [k for k in (precision_recall_k, density_coverage_k) if k is not None]
    if not ks:
        return {}
    real, fake = check_feature_pair(
        real_features, fake_features, max(neighbours_needed(k) for k in ks)
    )
    device = resolve_device(real, device)
    real_cloud = PointCloud(real.to(device), chunk_size=chunk_size)
    fake_cloud = PointCloud(fake.to(device), centre=real_cloud.centre, chunk_size=chunk_size)
    real_radii = neighbour_radii(real_cloud, ks)
    row_balls, column_balls = [], []
    if precision_recall_k is not None:
        row_balls.append(Balls(real_radii[precision_recall_k], inclusive=True))
        fake_radii = neighbour_radii(fake_cloud, [precision_recall_k])[precision_recall_k]
        column_balls.append(Balls(fake_radii, inclusive=True))
    if density_coverage_k is not None:
        row_balls.append(Balls(real_radii[density_coverage_k], inclusive=False))
    row_counts, column_counts = count_in_balls(real_cloud, fake_cloud, row_balls, column_balls)
    result: dict[str, float] = {}
    if precision_recall_k is not None:
        result[keys.PRECISION] = _share(row_counts[0].containing_balls > 0)
        result[keys.RECALL] = _share(column_counts[0].containing_balls > 0)
    if density_coverage_k is not None:
        counts = row_counts[-1]
        result[keys.DENSITY] = float(counts.containing_balls.sum()) / (
            density_coverage_k * fake.shape[0]
        )
        result[keys.COVERAGE] = _share(counts.points_inside > 0)
    return result


def _share(flags: torch.Tensor) -> float:
    return int(flags.sum()) / flags.numel()
