"""Birthday-paradox support estimates: known answers and brute-force pair counts."""

from __future__ import annotations

import math

import pytest
import torch

from collapsekit.data import get_dataset
from collapsekit.errors import CollapsekitError
from collapsekit.metrics.support import coinciding_pairs, duplicate_threshold, support_estimate


def test_known_support_of_repeated_items() -> None:
    items = torch.arange(10.0).repeat(30).unsqueeze(1)  # 300 samples, 10 items, 30 copies each
    pairs = 10 * 30 * 29 // 2
    assert coinciding_pairs(items, threshold=0.0) == pairs
    assert support_estimate(items, threshold=0.5) == pytest.approx(300 * 299 / 2 / pairs)  # 10.3
    assert support_estimate(torch.zeros(50, 3), threshold=0.0) == 1.0  # collapsed to one point


@pytest.mark.parametrize("width", [2, 64])
def test_pairs_equal_brute_force(width: int) -> None:
    samples = torch.randn(400, width, generator=torch.Generator().manual_seed(width))
    distances = torch.cdist(
        samples.double(), samples.double(), compute_mode="donot_use_mm_for_euclid_dist"
    )
    threshold = float(distances[distances > 0].quantile(0.01))
    expected = int((distances <= threshold).triu(diagonal=1).sum())
    assert coinciding_pairs(samples, threshold) == expected
    assert coinciding_pairs(samples, threshold, chunk_size=333) == expected


def test_no_coincidence_means_infinite_support() -> None:
    assert support_estimate(torch.arange(20.0).unsqueeze(1), threshold=0.5) == math.inf


def test_support_shrinks_with_dropped_modes() -> None:
    ring = get_dataset("ring8")
    real = ring.sample(2000, torch.Generator().manual_seed(0))
    generated = ring.sample(2000, torch.Generator().manual_seed(1))
    mode, _ = ring.assign(generated)
    threshold = duplicate_threshold(real)
    full = support_estimate(generated, threshold)
    two_modes = support_estimate(generated[mode < 2], threshold)
    assert two_modes / full == pytest.approx(
        2 / 8, rel=0.2
    )  # the support scales with the modes kept


def test_duplicate_threshold_is_the_median_nearest_neighbour_distance() -> None:
    assert duplicate_threshold(torch.tensor([[0.0], [1.0], [3.0], [4.0], [10.0]])) == 1.0


def test_bad_input() -> None:
    with pytest.raises(CollapsekitError, match="threshold must be a finite distance"):
        support_estimate(torch.zeros(5, 2), threshold=-1.0)
    with pytest.raises(CollapsekitError, match="at least 2 are needed"):
        coinciding_pairs(torch.zeros(1, 2), threshold=0.0)
