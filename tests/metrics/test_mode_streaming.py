"""The streaming ModeCoverage equals the one-shot mode metrics over any batching and merging."""

from __future__ import annotations

import pytest
import torch

from collapsekit.data import get_dataset
from collapsekit.errors import CollapsekitError
from collapsekit.metrics.modes import ModeCoverage, mode_metrics


def samples(seed: int) -> torch.Tensor:
    ring = get_dataset("ring8")
    generated = ring.sample(1000, torch.Generator().manual_seed(seed))
    mode, _ = ring.assign(generated)
    noise = 0.5 * torch.randn(
        200, 2, generator=torch.Generator().manual_seed(seed + 100)
    )  # low quality
    return torch.cat([generated[mode != 5], noise])  # mode 5 dropped


@pytest.mark.parametrize("batch", [1, 7, 128, 5000])
def test_updates_over_batches_equal_one_shot(batch: int) -> None:
    ring, data = get_dataset("ring8"), samples(0)
    coverage = ModeCoverage(ring)
    for start in range(0, data.shape[0], batch):
        coverage.update(data[start : start + batch])
    expected = mode_metrics(data, ring)
    assert coverage.compute() == expected
    assert expected["modes_captured"] == 7 and expected["mode_counts"][5] == 0
    assert 0.8 < expected["high_quality_frac"] < 0.9


def test_merge_equals_one_shot_on_the_union() -> None:
    ring = get_dataset("ring8")
    first, second = samples(1), samples(2)
    left, right = ModeCoverage(ring), ModeCoverage(ring)
    left.update(first)
    right.update(second[:300])
    right.update(second[300:])
    left.merge(right)
    assert left.compute() == mode_metrics(torch.cat([first, second]), ring)


def test_reset_forgets_everything() -> None:
    ring = get_dataset("ring8")
    coverage = ModeCoverage(ring)
    coverage.update(samples(3))
    coverage.reset()
    coverage.update(ring.centres.float())
    assert coverage.compute() == mode_metrics(ring.centres.float(), ring)


def test_bad_use() -> None:
    ring = get_dataset("ring8")
    with pytest.raises(CollapsekitError, match="before any update"):
        ModeCoverage(ring).compute()
    with pytest.raises(CollapsekitError, match="same dataset and min_share"):
        ModeCoverage(ring).merge(ModeCoverage(get_dataset("grid25")))
    with pytest.raises(CollapsekitError, match="min_share must lie in"):
        ModeCoverage(ring, min_share=2.0)
