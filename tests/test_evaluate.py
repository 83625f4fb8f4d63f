"""collapsekit.evaluate: the right numbers for known cases, a baseline, and one clear error per bad input."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from collapsekit.data import get_dataset
from collapsekit.errors import CollapsekitError
from collapsekit.evaluate import evaluate, feature_metrics, resolve_metrics
from collapsekit.metrics import keys
from collapsekit.metrics.manifold import manifold_metrics

FAST = "modes,precision_recall,density_coverage,fid,inception_score"


def ring_samples(count: int, seed: int) -> torch.Tensor:
    return get_dataset("ring8").sample(count, torch.Generator().manual_seed(seed))


def five_of_eight_modes(count: int, seed: int) -> torch.Tensor:
    ring = get_dataset("ring8")
    samples = ring_samples(2 * count, seed)
    mode, _ = ring.assign(samples)
    return samples[mode < 5][:count]


def test_dropped_modes_are_seen_by_every_metric() -> None:
    with pytest.warns(UserWarning, match="FID from 1000 samples"):
        result = evaluate(five_of_eight_modes(1000, 1), "ring8", metrics=FAST)
    assert result[keys.NUM_SAMPLES] == 1000
    assert result[keys.MODES_CAPTURED] == 5 and result[keys.MODES_TOTAL] == 8
    assert result[keys.MODE_COUNTS][5:] == [0, 0, 0]
    assert result[keys.PRECISION] > 0.9  # what it makes is on the data...
    assert result[keys.RECALL] == pytest.approx(5 / 8, abs=0.05)  # ...but not all of it
    assert result[keys.COVERAGE] == pytest.approx(5 / 8, abs=0.05)
    assert result[keys.INCEPTION_SCORE] == pytest.approx(5, abs=0.2)
    assert result[keys.FID] > 0.3


def test_real_samples_given_are_used() -> None:
    samples = ring_samples(600, 2)
    result = evaluate(
        samples, "ring8", real=samples.clone(), metrics="precision_recall,density_coverage"
    )
    assert result == {
        keys.NUM_SAMPLES: 600,
        keys.PRECISION: 1.0,
        keys.RECALL: 1.0,
        keys.DENSITY: 1.0,
        keys.COVERAGE: 1.0,
    }


def test_fresh_real_samples_are_seeded_and_as_many_as_generated() -> None:
    samples = ring_samples(500, 3)
    expected = manifold_metrics(ring_samples(500, 7), samples)
    result = evaluate(samples, "ring8", metrics="precision_recall,density_coverage", seed=7)
    assert {key: result[key] for key in expected} == expected


def test_baseline_scores_real_against_real() -> None:
    result = evaluate(
        dataset="ring8", baseline=True, num_samples=800, metrics="modes,precision_recall,support"
    )
    assert result[keys.NUM_SAMPLES] == 800
    assert result[keys.MODES_CAPTURED] == 8 and result[keys.HIGH_QUALITY_FRAC] > 0.98
    assert result[keys.PRECISION] > 0.9 and result[keys.RECALL] > 0.9
    assert math.isfinite(result[keys.SUPPORT_ESTIMATE])
    assert evaluate(dataset="ring8", baseline=True, num_samples=800, metrics="modes") == evaluate(
        dataset="ring8", baseline=True, num_samples=800, metrics="modes"
    )  # seeded


def test_default_metrics_cover_every_group(monkeypatch) -> None:
    import importlib

    # the package exports the function collapsekit.evaluate, which hides the submodule attribute
    module = importlib.import_module("collapsekit.evaluate")

    monkeypatch.setattr(
        module, "kid", lambda real, fake, seed: {keys.KID: 0.0, keys.KID_STD: 0.0}
    )  # speed
    with pytest.warns(UserWarning):
        result = evaluate(ring_samples(900, 4), "ring8")
    for group_keys in module.METRIC_GROUPS.values():
        for key in group_keys:
            assert key in result
    assert (
        0 <= result[keys.NDB] <= 45 and result[keys.NDB_FRAC] == result[keys.NDB] / 45
    )  # 900 / 20 bins


def test_without_a_dataset_only_feature_metrics() -> None:
    real = np.random.default_rng(0).standard_normal((300, 6)).astype(np.float32)
    fake = np.random.default_rng(1).standard_normal((300, 6)).astype(np.float32)
    result = evaluate(fake, real=real, metrics="precision_recall")
    assert set(result) == {keys.NUM_SAMPLES, keys.PRECISION, keys.RECALL}
    with pytest.raises(CollapsekitError, match="mode metrics need a dataset"):
        evaluate(fake, real=real, metrics="modes")
    with pytest.raises(CollapsekitError, match="Inception Score needs a classifier"):
        evaluate(fake, real=real, metrics="inception_score")


def test_feature_metrics_take_features_directly() -> None:
    real, fake = torch.randn(300, 5), torch.randn(300, 5) + 0.5
    result = feature_metrics(real, fake, ["precision_recall", "support"])
    assert set(result) == {keys.PRECISION, keys.RECALL, keys.SUPPORT_ESTIMATE}
    assert (
        result[keys.PRECISION]
        == manifold_metrics(real, fake, density_coverage_k=None)[keys.PRECISION]
    )
    with pytest.raises(CollapsekitError, match="not modes"):
        feature_metrics(real, fake, ["modes"])


def test_metric_names_resolve_to_groups() -> None:
    assert resolve_metrics("coverage, fid,kid_std") == ["fid", "kid", "density_coverage"]
    assert resolve_metrics(None) is None
    with pytest.raises(CollapsekitError, match="unknown metric 'fidd'; choose from: modes, fid"):
        resolve_metrics("fidd")


@pytest.mark.parametrize(
    ("samples", "metrics", "message"),
    [
        (torch.full((50, 2), float("nan")), "modes", "samples contain NaN or inf in 50 of 50 rows"),
        (torch.zeros(50, 3), "modes", r"samples have shape \(50, 3\), but ring8 expects \(N, 2\)"),
        (torch.zeros(50), "modes", r"samples have shape \(50,\); pass one sample per row"),
        (
            torch.zeros(3, 2),
            "precision_recall",
            "precision_recall needs at least 4 generated and 4 real samples, got 3",
        ),
        (
            torch.zeros(5, 2),
            "density_coverage",
            "density_coverage needs at least 6 generated and 6 real samples",
        ),
        ("not samples", "modes", "samples must be a tensor or numpy array, got str"),
    ],
)
def test_bad_samples(samples: object, metrics: str, message: str) -> None:
    with pytest.raises(CollapsekitError, match=message):
        evaluate(samples, "ring8", metrics=metrics)


def test_bad_combinations() -> None:
    samples = ring_samples(100, 5)
    with pytest.raises(
        CollapsekitError, match="real samples have samples of shape \\(3,\\) but generated"
    ):
        evaluate(samples, real=torch.zeros(100, 3), metrics="fid")
    with pytest.raises(CollapsekitError, match="either samples or baseline=True"):
        evaluate(samples, "ring8", baseline=True)
    with pytest.raises(CollapsekitError, match="baseline=True needs a dataset"):
        evaluate(baseline=True)
    with pytest.raises(CollapsekitError, match="nothing to compare with"):
        evaluate(samples, metrics="fid")
    with pytest.raises(CollapsekitError, match="unknown dataset 'ring9'"):
        evaluate(samples, "ring9")
    with pytest.raises(CollapsekitError, match="num_samples sets the size of a baseline"):
        evaluate(samples, "ring8", num_samples=10)
    with pytest.raises(CollapsekitError, match="takes no weights file"):
        evaluate(samples, "ring8", metrics="fid", weights="inception.pth")
