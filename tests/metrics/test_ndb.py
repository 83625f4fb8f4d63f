"""NDB flags the bins of dropped modes and passes two samples of the same distribution."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from collapsekit.data import get_dataset
from collapsekit.errors import CollapsekitError
from collapsekit.metrics.ndb import NumberOfDifferentBins, ndb, two_proportion_p_values


def ring_samples(count: int, seed: int) -> torch.Tensor:
    return get_dataset("ring8").sample(count, torch.Generator().manual_seed(seed))


def test_two_proportion_test_known_answer() -> None:
    # pooled p = 0.4, standard error = sqrt(0.4 * 0.6 * (1/100 + 1/100)), z = -0.2 / 0.069282 = -2.88675
    p_values = two_proportion_p_values(
        np.array([0.3, 0.0, 0.25]), 100, np.array([0.5, 0.0, 0.25]), 100
    )
    assert p_values[0] == pytest.approx(0.0038924, rel=1e-4)
    assert p_values[1] == 1.0  # empty in both: no evidence of a difference
    assert p_values[2] == 1.0


def test_dropped_mode_flags_its_bins() -> None:
    ring = get_dataset("ring8")
    real = ring_samples(4000, 0)
    generated = ring_samples(5000, 1)
    mode, _ = ring.assign(generated)
    test = NumberOfDifferentBins(bins=24, seed=0).fit(real)
    result = test.score(generated[mode != 3][:4000])  # mode 3 dropped
    bins_of_mode, _ = ring.assign(torch.from_numpy(test.centres_).float())
    dropped_bins = bins_of_mode == 3
    assert int(dropped_bins.sum()) >= 2
    assert bool((test.p_values_[dropped_bins.numpy()] < 1e-6).all())  # every bin of mode 3 differs
    assert result["ndb"] >= int(dropped_bins.sum())
    assert result["ndb_frac"] == result["ndb"] / 24


def test_real_against_real_passes() -> None:
    real, other = ring_samples(4000, 2), ring_samples(4000, 3)
    result = ndb(real, other, bins=50, seed=0)
    # under the null about 5% of bins differ by chance; 9 or more of 50 has probability < 0.3%
    assert result["ndb"] <= 8
    assert result["ndb_frac"] == result["ndb"] / 50


def test_result_does_not_depend_on_generated_order() -> None:
    real, other = ring_samples(2000, 4), ring_samples(1500, 5)
    shuffled = other[torch.randperm(1500, generator=torch.Generator().manual_seed(0))]
    assert ndb(real, other, bins=20) == ndb(real, shuffled, bins=20)


def test_bad_input() -> None:
    real = ring_samples(30, 6)
    with pytest.raises(CollapsekitError, match="have 30 samples, but at least 40"):
        NumberOfDifferentBins(bins=40).fit(real)
    with pytest.raises(CollapsekitError, match="bins must be an integer of at least 2"):
        NumberOfDifferentBins(bins=1)
    with pytest.raises(CollapsekitError, match="significance must lie in"):
        NumberOfDifferentBins(significance=1.5)
    with pytest.raises(CollapsekitError, match="before fit"):
        NumberOfDifferentBins().score(real)
    with pytest.raises(CollapsekitError, match="fitted on 2"):
        NumberOfDifferentBins(bins=5).fit(real).score(torch.randn(10, 3))
