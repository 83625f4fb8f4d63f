"""Precision/recall equal torch-fidelity 0.4, density/coverage equal prdc 0.2, on the same features."""

from __future__ import annotations

import contextlib
import io

import pytest
import torch
from prdc import compute_prdc
from torch_fidelity.metric_prc import prc_features_to_metric

from collapsekit.data import get_dataset
from collapsekit.errors import CollapsekitError
from collapsekit.metrics.manifold import density_coverage, manifold_metrics, precision_recall

SHAPES = [(300, 250, 2), (400, 450, 16), (350, 350, 64), (200, 260, 512)]


def features(real: int, fake: int, width: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    generator = torch.Generator().manual_seed(seed)
    real_features = torch.randn(real, width, generator=generator)
    fake_features = (
        1.2 * torch.randn(fake, width, generator=generator) + 0.1
    )  # overlapping, not equal
    return real_features, fake_features


def prdc_values(real: torch.Tensor, fake: torch.Tensor, k: int = 5) -> dict[str, float]:
    with contextlib.redirect_stdout(io.StringIO()):  # prdc prints the sizes
        return {
            key: float(value) for key, value in compute_prdc(real.numpy(), fake.numpy(), k).items()
        }


@pytest.mark.parametrize(("real_size", "fake_size", "width"), SHAPES)
def test_precision_recall_equal_torch_fidelity(real_size: int, fake_size: int, width: int) -> None:
    real, fake = features(real_size, fake_size, width, seed=width)
    ours = precision_recall(real, fake)
    reference = prc_features_to_metric(fake, real, verbose=False)  # torch-fidelity: generated first
    assert round(ours["precision"] * fake_size) == round(reference["precision"] * fake_size)
    assert round(ours["recall"] * real_size) == round(reference["recall"] * real_size)
    assert ours["precision"] == pytest.approx(
        reference["precision"], abs=1e-7
    )  # theirs is a float32 mean
    assert ours["recall"] == pytest.approx(reference["recall"], abs=1e-7)
    if (
        width <= 64
    ):  # a case where the decisions matter (in 512-d with 200 samples every ball misses)
        assert 0 < ours["precision"] < 1 and 0 < ours["recall"] < 1


@pytest.mark.parametrize(("real_size", "fake_size", "width"), SHAPES)
def test_density_coverage_equal_prdc(real_size: int, fake_size: int, width: int) -> None:
    real, fake = features(real_size, fake_size, width, seed=width + 1)
    ours = density_coverage(real, fake)
    reference = prdc_values(real, fake)
    assert ours["density"] == pytest.approx(reference["density"], abs=1e-6)
    assert ours["coverage"] == pytest.approx(reference["coverage"], abs=1e-6)
    if width <= 64:
        assert 0 < ours["coverage"] < 1 and ours["density"] > 0


def test_all_four_with_k5_equal_prdc() -> None:
    real, fake = features(300, 320, 8, seed=3)
    ours = manifold_metrics(real, fake, precision_recall_k=5, density_coverage_k=5)
    reference = prdc_values(real, fake)
    # prdc's precision and recall use strict "<": identical to "<=" unless a distance equals a radius
    for key in ("precision", "recall", "density", "coverage"):
        assert ours[key] == pytest.approx(reference[key], abs=1e-6)


def test_results_do_not_depend_on_chunk_size() -> None:
    real, fake = features(260, 240, 32, seed=4)
    results = [manifold_metrics(real, fake, chunk_size=size) for size in (239, 4000, 1 << 22)]
    assert results[0] == results[1] == results[2]


def test_identical_sets() -> None:
    real, _ = features(400, 1, 16, seed=5)
    result = manifold_metrics(real, real.clone())
    # each real ball holds the point itself and its k - 1 nearest neighbours ("<" leaves out the k-th)
    assert result == {"precision": 1.0, "recall": 1.0, "density": 1.0, "coverage": 1.0}


def test_dropping_three_of_eight_modes_lowers_recall_and_coverage_only() -> None:
    ring = get_dataset("ring8")
    real = ring.sample(2000, torch.Generator().manual_seed(0))
    generated = ring.sample(3200, torch.Generator().manual_seed(1))
    mode, _ = ring.assign(generated)
    kept = generated[mode < 5][:2000]  # five of eight modes
    full = manifold_metrics(real, generated[:2000])
    dropped = manifold_metrics(real, kept)
    assert full["recall"] > 0.9 and full["coverage"] > 0.9
    assert dropped["precision"] > 0.9  # what it makes is still on the data
    assert dropped["recall"] == pytest.approx(5 / 8, abs=0.04)
    assert dropped["coverage"] == pytest.approx(5 / 8, abs=0.04)


def test_generator_collapsed_to_one_point() -> None:
    real, _ = features(300, 1, 4, seed=6)
    point = real[:1].repeat(300, 1)  # every generated sample equals real sample 0
    result = manifold_metrics(real, point)
    distances = torch.cdist(real.double(), real.double())
    radii = distances.kthvalue(6, dim=1).values  # 5th neighbour, the point itself excluded
    holding = int((distances[:, 0] < radii).sum())  # real balls strictly containing the point
    assert result["precision"] == 1.0  # the point lies in its own real ball
    assert (
        result["recall"] == 1 / 300
    )  # generated balls have radius 0: they hold only real sample 0
    assert result["coverage"] == holding / 300
    assert result["density"] == pytest.approx(holding / 5)  # all 300 samples sit in those balls


def test_bad_input() -> None:
    real, fake = features(20, 20, 3, seed=7)
    with pytest.raises(CollapsekitError, match="NaN or inf in 1 of 20 rows"):
        precision_recall(real, torch.cat([fake[:19], torch.full((1, 3), float("nan"))]))
    with pytest.raises(CollapsekitError, match="3 columns but generated features have 4"):
        precision_recall(real, torch.randn(20, 4))
    with pytest.raises(CollapsekitError, match="have 5 samples, but at least 6 are needed"):
        density_coverage(real, fake[:5])
    with pytest.raises(CollapsekitError, match="must be 2-dimensional"):
        precision_recall(real, fake.reshape(20, 3, 1))
    with pytest.raises(CollapsekitError, match="k must be a positive integer"):
        precision_recall(real, fake, k=0)
