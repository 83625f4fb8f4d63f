"""Which points lie in which balls: one pass over all distances between two point clouds.

Balls are centred on the points of one cloud with the radii of
``collapsekit.metrics.knn`` (k-th neighbour distances, or given values). For a
block of fast distances only the entries whose column group reaches some ball
are opened; entries the error bound cannot decide are recomputed in float64,
and so is the ball's radius when needed, so every count equals the one from
float64 distances computed pair by pair.

Example:
    >>> from collapsekit.metrics.knn import PointCloud, neighbour_radii
    >>> real = PointCloud(torch.randn(100, 8))
    >>> fake = PointCloud(torch.randn(80, 8), centre=real.centre)
    >>> balls = Balls(neighbour_radii(real, [3])[3], inclusive=True)
    >>> (counts,), _ = count_in_balls(real, fake, row_balls=[balls])
    >>> precision = float((counts.containing_balls > 0).double().mean())
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch

from collapsekit.errors import CollapsekitError
from collapsekit.metrics.knn import NeighbourRadii
from collapsekit.metrics.knn_blocks import (
    PointCloud,
    approximate_squared_distances,
    exact_squared_distances,
    surely_above,
    surely_below,
)
from collapsekit.metrics.knn_select import (
    column_blocks,
    group_entries,
    group_minima,
    row_blocks,
    row_group_entries,
    row_group_minima,
)


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
        >>> from collapsekit.metrics.knn import neighbour_radii
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
