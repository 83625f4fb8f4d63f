import math

import pytest
import torch

from collapsekit.data import get_dataset
from collapsekit.metrics import keys, mode_kl, mode_metrics


@pytest.fixture
def ring():
    return get_dataset("ring8")


def around(ring, modes, per_mode, noise=0.5, seed=0):
    """Samples near the given modes, at most ``noise`` std from the centre (all high quality)."""
    generator = torch.Generator().manual_seed(seed)
    index = torch.tensor(modes).repeat_interleave(per_mode)
    offsets = (torch.rand(len(index), 2, generator=generator, dtype=torch.float64) - 0.5) * noise * ring.std
    return (ring.centres[index] + offsets).float()


def test_exact_samples_from_all_modes(ring):
    result = mode_metrics(around(ring, list(range(8)), 300), ring)
    assert result[keys.MODES_CAPTURED] == 8
    assert result[keys.MODES_COVERED] == 8
    assert result[keys.MODES_TOTAL] == 8
    assert result[keys.HIGH_QUALITY_FRAC] == 1.0
    assert result[keys.MODE_COUNTS] == [300] * 8
    assert result[keys.MODE_KL] == pytest.approx(0.0, abs=1e-12)
    assert result[keys.NUM_SAMPLES] == 2400


def test_five_chosen_modes_give_exactly_those_five(ring):
    chosen = [0, 2, 3, 5, 7]
    result = mode_metrics(around(ring, chosen, 500), ring)
    assert result[keys.MODES_CAPTURED] == 5
    assert [i for i, c in enumerate(result[keys.MODE_COUNTS]) if c > 0] == chosen
    assert result[keys.MODE_KL] == pytest.approx(math.log(8 / 5))  # uniform over 5 of 8


def test_collapse_into_one_mode_gives_log_8(ring):
    result = mode_metrics(around(ring, [4], 2500), ring)
    assert result[keys.MODES_CAPTURED] == 1
    assert result[keys.MODE_KL] == pytest.approx(math.log(8))


def test_points_far_from_every_mode_are_low_quality(ring):
    far = torch.tensor([[0.0, 0.0], [1.0, 0.0], [5.0, 5.0], [2.0 + 4 * 0.02, 0.0]])  # last: 4 std off mode 0
    result = mode_metrics(far, ring)
    assert result[keys.HIGH_QUALITY_FRAC] == 0.0
    assert result[keys.MODES_CAPTURED] == 0
    assert math.isnan(result[keys.MODE_KL])  # no histogram without high-quality samples
    edge = torch.tensor([[2.0 + 2.9 * 0.02, 0.0]])  # 2.9 std: still high quality
    assert mode_metrics(edge, ring)[keys.HIGH_QUALITY_FRAC] == 1.0


def test_robust_count_needs_a_share_of_the_expected_samples(ring):
    # 2,400 samples: each mode expects 300; min_share 0.1 needs >= 30
    samples = torch.cat([around(ring, list(range(7)), 300), around(ring, [7], 29)])
    samples = torch.cat([samples, torch.zeros(2400 - len(samples), 2)])  # low-quality filler
    result = mode_metrics(samples, ring, min_share=0.1)
    assert result[keys.MODES_CAPTURED] == 8
    assert result[keys.MODES_COVERED] == 7
    assert mode_metrics(samples, ring, min_share=0.05)[keys.MODES_COVERED] == 8


def test_mode_kl_against_unequal_weights():
    weights = torch.tensor([0.5, 0.25, 0.25], dtype=torch.float64)
    counts = torch.tensor([1, 1, 0])
    expected = 0.5 * math.log(0.5 / 0.5) + 0.5 * math.log(0.5 / 0.25)
    assert mode_kl(counts, weights) == pytest.approx(expected)
