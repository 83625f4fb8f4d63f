"""The chunked k-NN engine equals brute-force float64 distances, whatever the chunk size."""

from __future__ import annotations

import pytest
import torch

from collapsekit.errors import CollapsekitError
from collapsekit.metrics import knn, knn_balls, knn_blocks
from collapsekit.metrics.knn import (
    NeighbourRadii,
    PointCloud,
    exact_squared_distances,
    kth_neighbour_distances,
    neighbour_radii,
)
from collapsekit.metrics.knn_balls import Balls, count_in_balls


def brute_squared(first: torch.Tensor, second: torch.Tensor) -> torch.Tensor:
    """All pairwise squared distances (N, M) from the engine's own exact float64 routine."""
    rows = torch.arange(first.shape[0]).repeat_interleave(second.shape[0])
    columns = torch.arange(second.shape[0]).repeat(first.shape[0])
    return exact_squared_distances(first, rows, second, columns).reshape(first.shape[0], -1)


def brute_radii(points: torch.Tensor, k: int) -> torch.Tensor:
    return brute_squared(points, points).kthvalue(k + 1, dim=1).values.sqrt()


def clustered(size: int, width: int, seed: int) -> torch.Tensor:
    """Tight clusters far from the origin: float32 products cannot separate neighbours."""
    generator = torch.Generator().manual_seed(seed)
    centres = 1000 * torch.randn(3, width, generator=generator)
    labels = torch.randint(0, 3, (size,), generator=generator)
    return centres[labels] + 1e-3 * torch.randn(size, width, generator=generator)


@pytest.mark.parametrize("width", [1, 3, 40, 300])
@pytest.mark.parametrize("chunk_size", [37, 1000, 1 << 22])
def test_radii_equal_brute_force(width: int, chunk_size: int) -> None:
    points = torch.randn(150, width, generator=torch.Generator().manual_seed(width))
    radii = neighbour_radii(PointCloud(points, chunk_size=chunk_size), [1, 3, 5])
    for k in (1, 3, 5):
        assert torch.equal(radii[k].distances(), brute_radii(points, k))


def test_radii_of_tight_clusters_and_duplicates_are_exact() -> None:
    points = clustered(200, 64, seed=1)
    points[10:16] = points[9]  # seven copies of one point: its radii up to k=6 are 0
    for chunk_size in (64, 1 << 22):
        got = kth_neighbour_distances(points, 5, chunk_size=chunk_size)
        assert torch.equal(got, brute_radii(points, 5))
    assert float(kth_neighbour_distances(points, 5)[9]) == 0.0


def test_radii_known_answer() -> None:
    line = torch.tensor([[0.0], [1.0], [3.0], [7.0]])
    assert kth_neighbour_distances(line, 1).tolist() == [1.0, 1.0, 2.0, 4.0]
    assert kth_neighbour_distances(line, 2).tolist() == [3.0, 2.0, 3.0, 6.0]


def brute_counts(centres, points, radii, inclusive):
    squared = brute_squared(centres, points)  # (centres, points)
    inside = (
        squared <= radii.square().unsqueeze(1)
        if inclusive
        else squared < radii.square().unsqueeze(1)
    )
    return inside.sum(1), inside.sum(0)


@pytest.mark.parametrize("chunk_size", [53, 4096, 1 << 22])
@pytest.mark.parametrize("width", [2, 64])
def test_ball_counts_equal_brute_force(chunk_size: int, width: int) -> None:
    generator = torch.Generator().manual_seed(chunk_size + width)
    real = torch.randn(170, width, generator=generator)
    fake = 1.1 * torch.randn(140, width, generator=generator) + 0.1
    real_cloud = PointCloud(real, chunk_size=chunk_size)
    fake_cloud = PointCloud(fake, centre=real_cloud.centre, chunk_size=chunk_size)
    real_radii = neighbour_radii(real_cloud, [3, 5])
    fake_radii = neighbour_radii(fake_cloud, [3])
    row_balls = [Balls(real_radii[3], inclusive=True), Balls(real_radii[5], inclusive=False)]
    column_balls = [Balls(fake_radii[3], inclusive=True)]
    row_counts, column_counts = count_in_balls(real_cloud, fake_cloud, row_balls, column_balls)
    for balls, counts in zip(row_balls, row_counts, strict=True):
        expected = brute_counts(real, fake, brute_radii(real, balls.radii.k), balls.inclusive)
        assert torch.equal(counts.points_inside, expected[0])
        assert torch.equal(counts.containing_balls, expected[1])
    expected = brute_counts(fake, real, brute_radii(fake, 3), True)
    assert torch.equal(column_counts[0].points_inside, expected[0])
    assert torch.equal(column_counts[0].containing_balls, expected[1])


def test_points_exactly_on_a_sphere_follow_inclusive_and_strict() -> None:
    real = torch.tensor([[0.0, 0.0], [1.0, 0.0], [0.0, 2.0], [5.0, 5.0]])
    fake = real.clone()  # each fake point sits exactly on some real balls' surfaces
    real_cloud = PointCloud(real)
    fake_cloud = PointCloud(fake, centre=real_cloud.centre)
    radius = NeighbourRadii.fixed(real_cloud, 1.0)
    (closed, open_), _ = count_in_balls(
        real_cloud, fake_cloud, [Balls(radius, inclusive=True), Balls(radius, inclusive=False)]
    )
    assert closed.points_inside.tolist() == [2, 2, 1, 1]  # (0,0) and (1,0) are 1 apart
    assert open_.points_inside.tolist() == [1, 1, 1, 1]  # only the point itself, at distance 0


def test_tight_clusters_fall_back_to_float64_blocks(monkeypatch) -> None:
    points = clustered(300, 64, seed=2)
    cloud = PointCloud(points)
    assert cloud.precision.dtype == torch.float32
    used = []
    original = knn._radii_with

    def spy(cloud, ks, precision):
        used.append(precision.dtype)
        return original(cloud, ks, precision)

    monkeypatch.setattr(knn, "_radii_with", spy)
    radii = neighbour_radii(cloud, [3])[3]
    assert torch.float64 in used
    assert torch.equal(radii.distances(), brute_radii(points, 3))


def test_blocks_never_exceed_chunk_size(monkeypatch) -> None:
    shapes = []
    original = knn_blocks.approximate_squared_distances

    def spy(*args):
        block = original(*args)
        shapes.append(block.shape)
        return block

    monkeypatch.setattr(knn, "approximate_squared_distances", spy)
    monkeypatch.setattr(knn_balls, "approximate_squared_distances", spy)
    real = torch.randn(500, 8)
    real_cloud = PointCloud(real, chunk_size=2000)
    fake_cloud = PointCloud(torch.randn(450, 8), centre=real_cloud.centre, chunk_size=2000)
    balls = Balls(neighbour_radii(real_cloud, [3])[3], inclusive=True)
    count_in_balls(real_cloud, fake_cloud, [balls])
    assert shapes and max(rows * columns for rows, columns in shapes) <= 2000
    assert max(rows for rows, _ in shapes) < 500  # never a whole N x N matrix


def test_reduced_precision_products_switch_to_float64() -> None:
    previous = torch.get_float32_matmul_precision()
    try:
        torch.set_float32_matmul_precision(
            "high"
        )  # TF32 products allowed: float32 bounds no longer hold
        assert PointCloud(torch.randn(10, 64)).precision.dtype == torch.float64
    finally:
        torch.set_float32_matmul_precision(previous)
    assert PointCloud(torch.randn(10, 64)).precision.dtype == torch.float32
    assert PointCloud(torch.randn(10, 2)).precision.dtype == torch.float64  # narrow: float64 always


def test_bad_input_raises_clear_errors() -> None:
    with pytest.raises(CollapsekitError, match="needs at least 6 samples, got 5"):
        neighbour_radii(PointCloud(torch.randn(5, 3)), [5])
    with pytest.raises(CollapsekitError, match="must be a non-empty"):
        PointCloud(torch.randn(5))
    with pytest.raises(CollapsekitError, match="different widths"):
        count_in_balls(PointCloud(torch.randn(5, 3)), PointCloud(torch.randn(5, 4)))
