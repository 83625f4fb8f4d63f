"""Chunked k-nearest-neighbour engine behind precision, recall, density and coverage.

Distances are never held as an N x N matrix: the engine walks blocks of at most
``chunk_size`` pairwise distances. Each block is one fast matrix product in
float32 whose rounding error has a proven bound (``knn_blocks``). Columns are
pruned 32 at a time by their minimum (``knn_select``), so after the product
only the few distances near a ball's surface are looked at. A decision the
bound settles is taken from the fast product; a pair too close to call is
recomputed exactly in float64 from the original coordinates, and so is the
radius when needed. Every decision therefore equals the one made with float64
distances computed pair by pair, whatever the chunk size or device.

This module gives k-th nearest-neighbour radii; ``knn_balls`` counts which
points lie in which balls.

Example:
    >>> points = torch.randn(100, 8)
    >>> kth_neighbour_distances(points, k=3).shape  # float64
    torch.Size([100])
    >>> radii = neighbour_radii(PointCloud(points), [3, 5])  # both from one pass
    >>> bool((radii[3].squared_upper <= radii[5].squared_upper).all())
    True
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import torch

from collapsekit.errors import CollapsekitError
from collapsekit.metrics.knn_blocks import (
    DEFAULT_CHUNK_SIZE,
    PointCloud,
    Precision,
    approximate_squared_distances,
    exact_squared_distances,
    lower_bounds,
    surely_above,
    surely_below,
    upper_bounds,
)
from collapsekit.metrics.knn_select import column_blocks, row_blocks, smallest_per_row

__all__ = [
    "DEFAULT_CHUNK_SIZE",
    "NeighbourRadii",
    "PointCloud",
    "exact_squared_distances",
    "kth_neighbour_distances",
    "neighbour_radii",
]

_FALLBACK_SHARE = 1 / 8  # points left without exact radii before the pass is redone in float64
_EXTRA_CANDIDATES = 4  # kept beyond the k + 1 nearest, so exact radii rarely need a second pass


@dataclass
class NeighbourRadii:
    """Ball radii around the points of a cloud: bounds for all points, exact values on demand.

    ``squared_lower <= exact squared radius <= squared_upper``. Exact float64
    values are computed during the pass where that is cheap and otherwise only
    for the points that need them (``exact_squared``).
    """

    cloud: PointCloud
    k: int  # the radius is the distance to the k-th nearest neighbour (0: given radii)
    squared_lower: torch.Tensor  # (N,) float64
    squared_upper: torch.Tensor  # (N,) float64
    exact: torch.Tensor = field(repr=False)  # (N,) float64 squared radii, NaN where not known yet

    @classmethod
    def fixed(cls, cloud: PointCloud, radius: float | torch.Tensor) -> NeighbourRadii:
        """The same known radius (or one per point) around every point of ``cloud``."""
        radius = torch.as_tensor(radius, dtype=torch.float64, device=cloud.points.device)
        squared = radius.square().expand(cloud.size).clone()  # (N,)
        return cls(cloud, 0, squared, squared.clone(), squared.clone())

    def exact_squared(self, indices: torch.Tensor) -> torch.Tensor:
        """Exact squared radii of the points ``indices``: (M,) float64."""
        missing = indices[torch.isnan(self.exact[indices])].unique()
        if missing.numel() > 0:
            self.exact[missing] = _exact_radii_slowly(self, missing)
        return self.exact[indices]

    def distances(self) -> torch.Tensor:
        """Exact radii of all points: (N,) float64."""
        return self.exact_squared(torch.arange(self.cloud.size, device=self.exact.device)).sqrt()


def neighbour_radii(cloud: PointCloud, ks: Sequence[int]) -> dict[int, NeighbourRadii]:
    """k-th nearest-neighbour radii of every point of ``cloud`` for each k in ``ks``, in one pass.

    The point itself does not count as its own neighbour, but its duplicates do
    (as in prdc and torch-fidelity): the radius is the (k + 1)-th smallest
    distance from the point to the cloud, itself included.
    """
    ks = sorted({int(k) for k in ks})
    if not ks or ks[0] < 1:
        raise CollapsekitError(f"k must be at least 1, got {ks}")
    if ks[-1] + 1 > cloud.size:
        raise CollapsekitError(
            f"k={ks[-1]} needs at least {ks[-1] + 1} samples, got {cloud.size}; "
            "pass more samples or a smaller k"
        )
    lower, upper, exact = _radii_with(cloud, ks, cloud.precision)
    missing = int(exact[:, -1].isnan().sum())
    if missing > _FALLBACK_SHARE * cloud.size and cloud.precision != cloud.fallback:
        # clusters much tighter than their spread: float32 cannot rank near neighbours
        lower, upper, exact = _radii_with(cloud, ks, cloud.fallback)
    return {
        k: NeighbourRadii(cloud, k, lower[:, index], upper[:, index], exact[:, index].clone())
        for index, k in enumerate(ks)
    }


def _radii_with(
    cloud: PointCloud, ks: list[int], precision: Precision
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Bounds and exact values (NaN where not cheap) of the k-th radii: three (N, len(ks)) float64."""
    values, neighbours = _nearest_candidates(
        cloud, min(cloud.size, ks[-1] + 1 + _EXTRA_CANDIDATES), precision
    )
    norms = cloud.prepared(precision).squared_norms  # (N,)
    smallest = values[:, ks]  # (N, len(ks)) fast (k + 1)-th smallest squared distances
    lower = lower_bounds(precision, smallest, norms.unsqueeze(1))
    upper = upper_bounds(precision, smallest, norms.unsqueeze(1))
    reach = surely_above(precision, upper[:, -1], norms)  # (N,) beyond: surely not a candidate
    complete = (
        values[:, -1] > reach
        if values.shape[1] < cloud.size
        else torch.ones_like(reach, dtype=torch.bool)
    )
    bands, below = [], []
    for index in range(len(ks)):
        below_limit = surely_below(precision, lower[:, index], norms).unsqueeze(1)
        above_limit = surely_above(precision, upper[:, index], norms).unsqueeze(1)
        bands.append((values >= below_limit) & (values <= above_limit) & complete.unsqueeze(1))
        below.append((values < below_limit).sum(1))  # (N,) candidates surely nearer
    row_index, position = torch.stack(bands).any(0).nonzero().unbind(1)
    squared = exact_squared_distances(
        cloud.points, row_index, cloud.points, neighbours[row_index, position], cloud.chunk_size
    )  # (P,)
    exact = torch.full_like(lower, torch.nan)
    for index, k in enumerate(ks):
        in_band = bands[index][row_index, position]
        _place_ranked(exact[:, index], row_index[in_band], squared[in_band], k - below[index])
    known = ~exact.isnan()
    return torch.where(known, exact, lower), torch.where(known, exact, upper), exact


def _nearest_candidates(
    cloud: PointCloud, count: int, precision: Precision
) -> tuple[torch.Tensor, torch.Tensor]:
    """The ``count`` smallest fast squared distances of every point to the cloud, and their indices.

    Row blocks span all columns when the cloud fits one chunk (then each row is
    selected from once); larger clouds are walked in column tiles whose
    candidates are merged. Returns (N, count) values, ascending, and (N, count)
    int64 indices.
    """
    size = cloud.size
    values = torch.full((size, count), torch.inf, dtype=precision.dtype, device=cloud.points.device)
    indices = torch.zeros((size, count), dtype=torch.int64, device=cloud.points.device)
    tiles = list(column_blocks(cloud.padded_size, cloud.chunk_size))
    for rows in row_blocks(size, cloud.padded_size, cloud.chunk_size):
        for columns in tiles:
            block = approximate_squared_distances(cloud, rows, cloud, columns, precision)  # (B, C)
            found, where = smallest_per_row(block, count)
            if len(tiles) == 1:
                values[rows], indices[rows] = found, where
            else:
                _merge(values, indices, rows, found, where + columns.start)
    return values, indices


def _merge(
    values: torch.Tensor,
    indices: torch.Tensor,
    rows: slice,
    found: torch.Tensor,
    where: torch.Tensor,
) -> None:
    """Keep the smallest of the running candidates of ``rows`` and newly ``found`` ones."""
    merged = torch.cat([values[rows], found], 1)
    top = merged.topk(values.shape[1], dim=1, largest=False)
    values[rows] = top.values
    indices[rows] = torch.cat([indices[rows], where], 1).gather(1, top.indices)


def _place_ranked(
    out: torch.Tensor, rows: torch.Tensor, values: torch.Tensor, ranks: torch.Tensor
) -> None:
    """Set ``out[r]`` to the ``ranks[r]``-th smallest (from 0) of the ``values`` whose row is r."""
    by_value = torch.argsort(values, stable=True)
    order = by_value[torch.argsort(rows[by_value], stable=True)]  # by row, then by value
    rows, values = rows[order], values[order]
    counts = torch.bincount(rows, minlength=out.numel())
    first = counts.cumsum(0) - counts  # (B,) where each row's run starts
    position = torch.arange(rows.numel(), device=rows.device) - first[rows]
    chosen = position == ranks[rows]
    out[rows[chosen]] = values[chosen]


def _exact_radii_slowly(radii: NeighbourRadii, indices: torch.Tensor) -> torch.Tensor:
    """Exact squared radii of ``indices`` from a fresh pass over their rows (duplicates, huge sets)."""
    cloud, count, precision = radii.cloud, radii.k + 1, radii.cloud.precision
    norms = cloud.prepared(precision).squared_norms[indices]
    limit = surely_above(precision, radii.squared_upper[indices], norms)  # (M,)
    out = torch.empty(indices.numel(), dtype=torch.float64, device=indices.device)
    step = max(1, cloud.chunk_size // min(cloud.padded_size, cloud.chunk_size))
    for start in range(0, indices.numel(), step):
        group = indices[start : start + step]  # (R,)
        best = None
        for columns in column_blocks(cloud.padded_size, cloud.chunk_size):
            block = approximate_squared_distances(cloud, group, cloud, columns, precision)  # (R, C)
            near = block <= limit[start : start + step].unsqueeze(1)
            row_index, column_index = near.nonzero().unbind(1)
            exact = torch.full(block.shape, torch.inf, dtype=torch.float64, device=block.device)
            exact[row_index, column_index] = exact_squared_distances(
                cloud.points,
                group[row_index],
                cloud.points,
                column_index + columns.start,
                cloud.chunk_size,
            )
            top = exact.topk(min(count, exact.shape[1]), dim=1, largest=False).values
            best = (
                top
                if best is None
                else torch.cat([best, top], 1).topk(count, 1, largest=False).values
            )
        out[start : start + step] = best[:, radii.k]
    return out


def kth_neighbour_distances(
    points: torch.Tensor, k: int, chunk_size: int | None = None
) -> torch.Tensor:
    """Exact distance from every point to its k-th nearest neighbour (itself excluded): (N,) float64.

    Example:
        >>> kth_neighbour_distances(torch.tensor([[0.0], [1.0], [3.0]]), k=1).tolist()
        [1.0, 1.0, 2.0]
    """
    return neighbour_radii(PointCloud(points, chunk_size=chunk_size), [k])[k].distances()
