"""Chunked k-nearest-neighbour engine behind precision, recall, density and coverage.

Distances are never held as an N x N matrix: the engine walks blocks of at most
``chunk_size`` pairwise distances. Each block is one fast matrix product in the
compute precision (float32: ``|x|^2 + |y|^2 - 2 x.y`` on centred points) whose
rounding error has a proven bound (see ``collapsekit.metrics.knn_blocks``).
Columns are pruned 32 at a time by their minimum, so after the product only the
few distances near a ball's surface are looked at. A comparison the bound
decides is taken from the fast product; a pair too close to call is recomputed
in float64 from the original coordinates, and so is the ball's radius when that
is needed. Every decision therefore equals the one made with float64 distances
computed pair by pair, whatever the chunk size or device.

Example:
    >>> points = torch.randn(100, 8)
    >>> kth_neighbour_distances(points, k=3).shape  # float64
    torch.Size([100])
    >>> real = PointCloud(points)
    >>> fake = PointCloud(torch.randn(80, 8), centre=real.centre)
    >>> balls = Balls(neighbour_radii(real, [3])[3], inclusive=True)
    >>> (counts,), _ = count_in_balls(real, fake, row_balls=[balls])
    >>> precision = float((counts.containing_balls > 0).double().mean())
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
    column_blocks,
    exact_squared_distances,
    group_entries,
    group_minima,
    lower_bounds,
    row_blocks,
    row_group_entries,
    row_group_minima,
    smallest_per_row,
    surely_above,
    surely_below,
    upper_bounds,
)

__all__ = [
    "DEFAULT_CHUNK_SIZE",
    "BallCounts",
    "Balls",
    "NeighbourRadii",
    "PointCloud",
    "count_in_balls",
    "exact_squared_distances",
    "kth_neighbour_distances",
    "neighbour_radii",
]

_FALLBACK_SHARE = 1 / 8  # rows of a block left without exact radii before it is redone in float64
_EXTRA_CANDIDATES = (
    4  # nearest candidates kept beyond k + 1, so that exact radii rarely need a second pass
)


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
    distance from the point to the cloud, itself included. Distances are
    symmetric, so only the tiles on and above the diagonal are computed.
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


@dataclass
class Balls:
    """Balls of the given radii around the points of one cloud.

    ``inclusive``: a point at exactly the radius is inside (``d <= r``, as
    Kynkaanniemi et al. and torch-fidelity) or outside (``d < r``, as prdc).
    """

    radii: NeighbourRadii
    inclusive: bool


@dataclass
class BallCounts:
    """What one set of balls contains."""

    points_inside: torch.Tensor  # (balls,) int64: points of the other cloud inside each ball
    containing_balls: (
        torch.Tensor
    )  # (points,) int64: balls that contain each point of the other cloud


@dataclass
class _Limits:
    """Fast squared distances below ``inside`` are surely inside; above ``outside`` surely outside."""

    inside: torch.Tensor  # (balls,) in the cloud's compute dtype
    outside: torch.Tensor  # (balls,) in the cloud's compute dtype

    @classmethod
    def of(cls, balls: Balls) -> _Limits:
        radii, precision = balls.radii, balls.radii.cloud.precision
        norms = radii.cloud.prepared(precision).squared_norms
        return cls(
            surely_below(precision, radii.squared_lower, norms),
            surely_above(precision, radii.squared_upper, norms),
        )


def count_in_balls(
    rows: PointCloud,
    columns: PointCloud,
    row_balls: Sequence[Balls] = (),
    column_balls: Sequence[Balls] = (),
) -> tuple[list[BallCounts], list[BallCounts]]:
    """Count, in one pass over all row x column distances, which points lie in which balls.

    ``row_balls`` are centred on the points of ``rows`` and hold points of
    ``columns``; ``column_balls`` the other way round. Returns one ``BallCounts``
    per ball set, in order.

    Example:
        >>> real = PointCloud(torch.randn(40, 3))
        >>> fake = PointCloud(torch.randn(30, 3), centre=real.centre)
        >>> balls = Balls(neighbour_radii(real, [3])[3], inclusive=True)
        >>> (counts,), _ = count_in_balls(real, fake, row_balls=[balls])
        >>> counts.points_inside.shape, counts.containing_balls.shape
        (torch.Size([40]), torch.Size([30]))
    """
    _check_clouds(rows, columns, row_balls, column_balls)
    device = rows.points.device
    row_counts = [_empty_counts(rows.size, columns.size, device) for _ in row_balls]
    column_counts = [_empty_counts(columns.size, rows.size, device) for _ in column_balls]
    row_limits = [_Limits.of(balls) for balls in row_balls]
    column_limits = [_Limits.of(balls) for balls in column_balls]
    row_reach = (
        torch.stack([limits.outside for limits in row_limits]).amax(0) if row_balls else None
    )
    column_reach = None
    if column_balls:  # padded columns (+inf away) must reach nothing
        column_reach = torch.full(
            (columns.padded_size,), -torch.inf, dtype=columns.precision.dtype, device=device
        )
        column_reach[: columns.size] = torch.stack(
            [limits.outside for limits in column_limits]
        ).amax(0)
    chunk_size = min(rows.chunk_size, columns.chunk_size)
    for row_slice in row_blocks(rows.size, columns.padded_size, chunk_size):
        for column_slice in column_blocks(columns.padded_size, chunk_size):
            block = approximate_squared_distances(
                rows, row_slice, columns, column_slice, rows.precision
            )
            if row_balls:
                near = _near_row_centres(block, row_reach[row_slice])
                for balls, limits, counts in zip(row_balls, row_limits, row_counts, strict=True):
                    _tally(near, row_slice, column_slice, balls, limits, counts, columns)
            if column_balls:
                near = _near_column_centres(block, column_reach[column_slice])
                for balls, limits, counts in zip(
                    column_balls, column_limits, column_counts, strict=True
                ):
                    _tally(near, column_slice, row_slice, balls, limits, counts, rows)
    return row_counts, column_counts


def _check_clouds(
    rows: PointCloud, columns: PointCloud, row_balls: Sequence[Balls], column_balls: Sequence[Balls]
) -> None:
    if rows.width != columns.width:
        raise CollapsekitError(
            f"real and generated features have different widths ({rows.width} and {columns.width}); "
            "compute both with the same feature extractor"
        )
    if not torch.equal(rows.centre, columns.centre) or rows.precision != columns.precision:
        raise ValueError(
            "point clouds compared with each other must share one centre (pass centre=)"
        )
    if any(balls.radii.cloud is not rows for balls in row_balls):
        raise ValueError("row_balls must be radii of the rows PointCloud")
    if any(balls.radii.cloud is not columns for balls in column_balls):
        raise ValueError("column_balls must be radii of the columns PointCloud")


def _empty_counts(balls: int, points: int, device: torch.device) -> BallCounts:
    return BallCounts(
        torch.zeros(balls, dtype=torch.int64, device=device),
        torch.zeros(points, dtype=torch.int64, device=device),
    )


@dataclass
class _Near:
    """Entries of a block that may lie inside some ball: (centre, point) local indices and value."""

    centres: torch.Tensor  # (P,) int64, index into the block's centre side
    points: torch.Tensor  # (P,) int64, index into the block's point side
    values: torch.Tensor  # (P,) fast squared distances


def _near_row_centres(block: torch.Tensor, reach: torch.Tensor) -> _Near:
    """Entries within ``reach`` (one per row) of balls centred on the block's rows."""
    row_index, group = (group_minima(block) <= reach.unsqueeze(1)).nonzero().unbind(1)
    values, column_index = group_entries(block, group.unsqueeze(1), row_index)  # (P, 32)
    keep = values <= reach[row_index].unsqueeze(1)
    centres = row_index.unsqueeze(1).expand_as(values)[keep]
    return _Near(centres, column_index[keep], values[keep])


def _near_column_centres(block: torch.Tensor, reach: torch.Tensor) -> _Near:
    """Entries within ``reach`` (one per column) of balls centred on the block's columns."""
    group, column_index = (row_group_minima(block) <= reach.unsqueeze(0)).nonzero().unbind(1)
    values, row_index = row_group_entries(block, group, column_index)  # (P, 32)
    keep = values <= reach[column_index].unsqueeze(1)
    columns = column_index.unsqueeze(1).expand_as(values)[keep]
    return _Near(columns, row_index[keep], values[keep])


def _tally(
    near: _Near,
    centre_slice: slice,
    point_slice: slice,
    balls: Balls,
    limits: _Limits,
    counts: BallCounts,
    point_cloud: PointCloud,
) -> None:
    """Add the memberships among ``near`` entries of one block to ``counts``."""
    centres = near.centres + centre_slice.start
    points = near.points + point_slice.start
    inside = near.values < limits.inside[centres]
    undecided = ~inside & (near.values <= limits.outside[centres])
    if undecided.any():
        inside[undecided] = _decide_exactly(
            balls, centres[undecided], point_cloud, points[undecided]
        )
    ones = torch.ones_like(centres[inside])
    counts.points_inside.index_add_(0, centres[inside], ones)
    counts.containing_balls.index_add_(0, points[inside], ones)


def _decide_exactly(
    balls: Balls, centres: torch.Tensor, point_cloud: PointCloud, points: torch.Tensor
) -> torch.Tensor:
    """Whether each point lies in the ball around each centre, from float64 distances: (P,) bool."""
    radii = balls.radii
    cloud = radii.cloud
    squared = exact_squared_distances(
        cloud.points, centres, point_cloud.points, points, cloud.chunk_size
    )
    lower, upper = radii.squared_lower[centres], radii.squared_upper[centres]
    inside = squared < lower * (1 - 1e-12)
    unsure = ~inside & (squared <= upper * (1 + 1e-12))
    if unsure.any():
        radius = radii.exact_squared(centres[unsure])
        inside[unsure] = squared[unsure] <= radius if balls.inclusive else squared[unsure] < radius
    return inside


def kth_neighbour_distances(
    points: torch.Tensor, k: int, chunk_size: int = DEFAULT_CHUNK_SIZE
) -> torch.Tensor:
    """Exact distance from every point to its k-th nearest neighbour (itself excluded): (N,) float64.

    Example:
        >>> kth_neighbour_distances(torch.tensor([[0.0], [1.0], [3.0]]), k=1).tolist()
        [1.0, 1.0, 2.0]
    """
    return neighbour_radii(PointCloud(points, chunk_size=chunk_size), [k])[k].distances()
