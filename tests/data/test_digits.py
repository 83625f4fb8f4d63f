"""stacked-digits: sampling, splits, mode assignment by the shipped classifier, bad input."""

from __future__ import annotations

import pytest
import torch

from collapsekit.classifier.mode import logits_to_modes
from collapsekit.data import get_dataset
from collapsekit.data.digits import StackedDigits, source_digits, to_unit_range
from collapsekit.errors import CollapsekitError
from collapsekit.metrics import keys, mode_metrics


def seeded(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def test_contract_values():
    data = get_dataset("stacked-digits")
    assert data.sample_shape == (3, 8, 8)
    assert data.modes_total == 1000 and data.eval_samples == 26000
    assert data.feature_space == "mode-classifier"
    assert torch.equal(data.mode_weights, torch.full((1000,), 1e-3, dtype=torch.float64))
    assert (
        get_dataset(data.spec).spec == data.spec == "stacked-digits:split=train,min_confidence=0.5"
    )


def test_samples_are_seeded_stacked_source_digits_in_unit_range():
    data = get_dataset("stacked-digits")
    samples, modes = data.sample_with_modes(300, seeded(0))
    assert samples.shape == (300, 3, 8, 8) and samples.dtype == torch.float32
    assert torch.equal(data.sample(300, seeded(0)), samples)
    assert not torch.equal(data.sample(300, seeded(1)), samples)
    assert float(samples.min()) == -1.0 and float(samples.max()) == 1.0
    assert torch.equal((samples + 1) * 8, ((samples + 1) * 8).round())  # pixels k/8 - 1, k in 0..16
    images, labels = source_digits("train")
    source = to_unit_range(images, 16.0).flatten(1)  # (1442, 64)
    for channel, place in enumerate((100, 10, 1)):
        digits = modes // place % 10
        match = (samples[:, channel].flatten(1)[:, None, :] == source[None]).all(
            dim=2
        )  # (300, 1442)
        assert match.any(dim=1).all()  # every channel is a training image ...
        assert (
            match.float().mul(labels[None] == digits[:, None]).sum(1).gt(0).all()
        )  # ... of its digit


def test_channel_digits_are_uniform_and_independent():
    _, modes = get_dataset("stacked-digits").sample_with_modes(20000, seeded(2))
    for place in (100, 10, 1):
        share = torch.bincount(modes // place % 10, minlength=10) / 20000
        assert (share - 0.1).abs().max() < 0.01  # std of a share is 0.0021
    pairs = torch.bincount(modes // 10, minlength=100) / 20000  # (d0, d1) jointly
    assert (pairs - 0.01).abs().max() < 0.004  # std 0.0007


def test_splits_are_disjoint_and_cover_every_digit():
    train, train_labels = source_digits("train")
    held, held_labels = source_digits("held-out")
    everything, _ = source_digits("all")
    assert (train.shape[0], held.shape[0], everything.shape[0]) == (1442, 355, 1797)
    assert torch.bincount(held_labels, minlength=10).min() >= 34
    assert torch.bincount(train_labels, minlength=10).min() >= 139
    same = (train.flatten(1)[:, None, :] == held.flatten(1)[None]).all(dim=2)
    assert int(same.sum()) == 0  # no image is in both splits
    with pytest.raises(CollapsekitError, match="split must be one of"):
        get_dataset("stacked-digits:split=test")


def test_classifier_recovers_the_true_modes_of_real_samples():
    data = get_dataset("stacked-digits")
    samples, modes = data.sample_with_modes(2000, seeded(3))
    predicted, high_quality = data.assign(samples)
    assert (predicted == modes).float().mean() > 0.99
    assert high_quality.float().mean() > 0.98
    held = get_dataset("stacked-digits:split=held-out")
    samples, modes = held.sample_with_modes(2000, seeded(4))
    assert (held.assign(samples)[0] == modes).float().mean() > 0.95  # about 0.99^3


def test_mode_log_posterior_is_a_distribution_peaked_at_the_assigned_mode():
    data = get_dataset("stacked-digits")
    samples = data.sample(50, seeded(6))
    log_posterior = data.mode_log_posterior(samples)
    assert log_posterior.shape == (50, 1000)
    assert torch.allclose(log_posterior.exp().sum(dim=1), torch.ones(50, dtype=log_posterior.dtype))
    assert torch.equal(log_posterior.argmax(dim=1), data.assign(samples)[0])


def test_real_samples_give_nearly_all_modes_and_tiny_kl():
    data = get_dataset("stacked-digits")
    result = mode_metrics(data.sample(10000, seeded(5)), data)
    # 10,000 uniform draws over 1,000 modes: expected misses 1000 e^-10 = 0.05, KL about 999/20000
    assert result[keys.MODES_CAPTURED] >= 998
    assert result[keys.MODE_KL] < 0.08
    assert result[keys.HIGH_QUALITY_FRAC] > 0.98


class FixedLogits:
    """Test double for the classifier: fixed per-channel logits."""

    def __init__(self, logits: torch.Tensor) -> None:
        self.logits = logits

    def predict(self, images):
        return logits_to_modes(self.logits)


def test_high_quality_needs_every_channel_at_least_min_confidence():
    images, labels = source_digits("train")
    logits = torch.zeros(3, 3, 11)
    logits[:, :, 4] = torch.tensor([[5.0, 5.0, 5.0], [5.0, 0.5, 5.0], [5.0, 5.0, 1.0]])
    confidence = logits.softmax(dim=2)[:, :, 4]
    threshold = float(confidence[2, 2])  # row 2 sits exactly on the threshold, row 1 below
    data = StackedDigits("t", images, labels, 16.0, FixedLogits(logits), min_confidence=threshold)
    mode, high_quality = data.assign(torch.zeros(3, 3, 8, 8))
    assert mode.tolist() == [444, 444, 444]
    assert high_quality.tolist() == [True, False, True]
    everything = StackedDigits("t", images, labels, 16.0, FixedLogits(logits), min_confidence=0.0)
    assert everything.assign(torch.zeros(3, 3, 8, 8))[1].all()


@pytest.mark.parametrize(
    "samples, message",
    [
        (torch.zeros(4, 3, 28, 28), r"\(N, 3, 8, 8\)"),
        (torch.zeros(4, 192), r"\(N, 3, 8, 8\)"),
        (torch.full((4, 3, 8, 8), 255.0), r"lie in \[-1, 1\].*127.5"),
        (torch.full((4, 3, 8, 8), float("nan")), "NaN"),
    ],
)
def test_bad_samples_give_clear_errors(samples, message):
    with pytest.raises(CollapsekitError, match=message):
        get_dataset("stacked-digits").assign(samples)


def test_bad_parameters_give_clear_errors():
    with pytest.raises(CollapsekitError, match="min_confidence must lie in"):
        get_dataset("stacked-digits:min_confidence=1.5")
    with pytest.raises(CollapsekitError, match="negative"):
        get_dataset("stacked-digits").sample(-1)
