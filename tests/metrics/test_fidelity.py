"""FID, KID and IS agree with torch-fidelity on the same features and stay finite under collapse."""

from __future__ import annotations

import math
import warnings

import pytest
import torch
from torch_fidelity.metric_fid import fid_features_to_statistics, fid_statistics_to_metric
from torch_fidelity.metric_isc import isc_features_to_metric
from torch_fidelity.metric_kid import kid_features_to_metric

from collapsekit.data import get_dataset
from collapsekit.errors import CollapsekitError
from collapsekit.metrics.fidelity import (
    fid,
    inception_score,
    kid,
    mixture_log_posterior,
    mode_inception_score,
)


def features(size: int, width: int, seed: int, scale: float = 1.0) -> torch.Tensor:
    return (
        scale * torch.randn(size, width, generator=torch.Generator().manual_seed(seed)) + 0.3 * seed
    )


def torch_fidelity_fid(real: torch.Tensor, fake: torch.Tensor) -> float:
    statistics = [fid_features_to_statistics(x.double()) for x in (fake, real)]
    return fid_statistics_to_metric(*statistics, verbose=False)["frechet_inception_distance"]


@pytest.mark.parametrize(("size", "width"), [(2100, 2), (2500, 16), (3000, 64)])
def test_fid_equals_torch_fidelity(size: int, width: int) -> None:
    real, fake = features(size, width, 1), features(size + 50, width, 2, scale=1.3)
    ours = fid(real, fake)
    assert ours == pytest.approx(torch_fidelity_fid(real, fake), rel=1e-10)
    # torch-fidelity on float32 features (its mean is then float32): same to float32 precision
    float32_statistics = [fid_features_to_statistics(x) for x in (fake, real)]
    float32_value = fid_statistics_to_metric(*float32_statistics, verbose=False)[
        "frechet_inception_distance"
    ]
    assert ours == pytest.approx(float32_value, rel=1e-4)


def test_fid_known_answers() -> None:
    real = features(3000, 8, 3)
    assert fid(real, real.clone()) == pytest.approx(0.0, abs=1e-9)
    point = torch.full((3000, 8), 2.0)  # a generator collapsed to one point: covariance 0
    mean, covariance = real.double().mean(0), torch.cov(real.double().T)
    expected = float((mean - 2.0).square().sum() + covariance.trace())  # |mu_r - c|^2 + tr(Sigma_r)
    assert fid(real, point) == pytest.approx(expected, rel=1e-9)


def test_fid_is_finite_for_collapsed_generators() -> None:
    real = features(2500, 64, 4)
    direction = torch.randn(1, 64, generator=torch.Generator().manual_seed(5))
    line = (
        torch.randn(2500, 1, generator=torch.Generator().manual_seed(6)) * direction
    )  # rank-1 covariance
    few_points = real[torch.arange(2500) % 3]  # three distinct points repeated
    for collapsed in (line, few_points, real[:1].repeat(2500, 1)):
        value = fid(real, collapsed)
        assert isinstance(value, float) and math.isfinite(value) and value > 10


def test_fid_warns_below_2048_samples() -> None:
    real = features(3000, 4, 7)
    with pytest.warns(UserWarning, match="FID from 2047 samples .* at least 2,048"):
        fid(real, real[:2047])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fid(real, real[:2048])  # no warning at 2,048


def test_kid_equals_torch_fidelity() -> None:
    real, fake = features(300, 12, 8), features(260, 12, 9, scale=1.4)
    ours = kid(real, fake, subsets=4, subset_size=150, seed=11)
    reference = kid_features_to_metric(
        fake.double(), real.double(), kid_subsets=4, kid_subset_size=150, rng_seed=11, verbose=False
    )
    assert ours["kid"] == pytest.approx(reference["kernel_inception_distance_mean"], rel=1e-10)
    assert ours["kid_std"] == pytest.approx(reference["kernel_inception_distance_std"], rel=1e-8)
    assert ours["kid"] > 0.01  # different distributions


def test_kid_subset_shrinks_to_small_sets() -> None:
    real, fake = features(120, 5, 10), features(90, 5, 11)
    assert kid(real, fake, subsets=3) == kid(real, fake, subsets=3, subset_size=90)


def test_inception_score_equals_torch_fidelity() -> None:
    logits = 3 * torch.randn(500, 10, generator=torch.Generator().manual_seed(12))
    ours = inception_score(logits, splits=5, seed=3)
    reference = isc_features_to_metric(logits.double(), splits=5, shuffle=True, rng_seed=3)
    assert ours["inception_score"] == pytest.approx(reference["inception_score_mean"], rel=1e-12)
    assert ours["inception_score_std"] == pytest.approx(reference["inception_score_std"], rel=1e-9)


def test_mode_inception_score_spans_one_to_number_of_modes() -> None:
    ring = get_dataset("ring8")
    assert mode_inception_score(ring.centres.float().repeat(50, 1), ring, splits=1)[
        "inception_score"
    ] == pytest.approx(8.0, rel=1e-12)
    samples = ring.sample(2000, torch.Generator().manual_seed(13))
    mode, _ = ring.assign(samples)
    collapsed = mode_inception_score(samples[mode == 2], ring)
    assert collapsed == {
        "inception_score": pytest.approx(1.0, abs=1e-12),
        "inception_score_std": pytest.approx(0.0),
    }
    five = mode_inception_score(samples[mode < 5], ring)["inception_score"]
    assert math.isfinite(five) and 4.8 < five < 5.0  # dropped modes: finite, about 5
    full = mode_inception_score(samples, ring)["inception_score"]
    assert 7.8 < full <= 8.0


def test_mixture_posterior_matches_bayes_rule() -> None:
    grid = get_dataset("grid25:std=1.0")  # wide modes: posteriors far from one-hot
    samples = grid.sample(50, torch.Generator().manual_seed(14)).double()
    squared = ((samples[:, None, :] - grid.centres[None]) ** 2).sum(-1)
    expected = torch.softmax(-squared / 2, dim=1)  # equal weights, std 1
    got = mixture_log_posterior(samples, grid).exp()
    assert torch.allclose(got, expected, atol=1e-12)
    assert torch.allclose(got.sum(1), torch.ones(50, dtype=torch.float64))


def test_bad_input() -> None:
    real = features(50, 3, 15)
    with pytest.raises(CollapsekitError, match="NaN or inf"):
        fid(real, torch.full((50, 3), float("inf")))
    with pytest.raises(CollapsekitError, match="3 columns but generated features have 2"):
        kid(real, real[:, :2])
    with pytest.raises(CollapsekitError, match="have 1 samples, but at least 2"):
        fid(real, real[:1])
    with pytest.raises(CollapsekitError, match="splits must be a positive integer"):
        inception_score(real, splits=0)
    with pytest.raises(CollapsekitError, match="has no mode posterior"):
        mode_inception_score(real, type("Blank", (), {"name": "blank"})())
    with pytest.warns(UserWarning, match="from 50 samples"):
        one_feature = fid(real[:, :1], real[:, :1] + 1)  # np.cov of one feature is a scalar
    assert one_feature == pytest.approx(1.0)
