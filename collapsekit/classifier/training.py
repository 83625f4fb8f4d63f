"""Training and scoring the digit classifier, deterministically for a given seed and device.

On the CPU with a fixed torch version the result is bit-for-bit reproducible:
``scripts/train_mode_classifier.py`` regenerates the shipped weights this way.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass

import torch
import torch.nn.functional as F

from collapsekit.classifier.model import DIGITS, NOT_A_DIGIT, Architecture, DigitClassifier
from collapsekit.errors import CollapsekitError

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class TrainingConfig:
    """How the classifier is trained; stored with the weights.

    Example:
        >>> TrainingConfig(steps=100).batch_size
        128
    """

    steps: int = 4000  # optimiser steps (not epochs: the same budget whatever the data size)
    batch_size: int = 128
    learning_rate: float = 1e-3  # Adam; decayed by cosine to 0 over ``steps``
    weight_decay: float = 1e-4
    max_shift: int = 1  # augmentation: random translation by up to this many pixels
    noise_std: float = 0.05  # augmentation: Gaussian pixel noise (GAN samples are never clean)
    negative_fraction: float = (
        0.25  # extra "not a digit" images per batch, as a share of batch_size
    )
    seed: int = 0

    def __post_init__(self) -> None:
        if self.steps < 1 or self.batch_size < 1:
            raise CollapsekitError(
                f"steps and batch_size must be >= 1, got steps={self.steps}, batch_size={self.batch_size}"
            )
        if self.max_shift < 0 or self.noise_std < 0 or self.negative_fraction < 0:
            raise CollapsekitError("max_shift, noise_std and negative_fraction must be >= 0")

    def to_dict(self) -> dict:
        return asdict(self)


def train_classifier(
    images: torch.Tensor,
    labels: torch.Tensor,
    architecture: Architecture,
    config: TrainingConfig = TrainingConfig(),
    device: str | torch.device = "cpu",
) -> DigitClassifier:
    """Train a ``DigitClassifier`` on grey digits (N, S, S) in [-1, 1] with labels (N,) in 0..9.

    Example:
        >>> from collapsekit.classifier.model import architecture_for
        >>> images, labels = torch.zeros(20, 8, 8), torch.arange(20) % 10
        >>> model = train_classifier(images, labels, architecture_for(8), TrainingConfig(steps=2))
    """
    images, labels = _check_training_data(images, labels, architecture.image_size)
    device = torch.device(device)
    cuda = [device] if device.type == "cuda" else []
    with torch.random.fork_rng(devices=cuda):  # seeding here leaves the caller's RNG untouched
        torch.manual_seed(config.seed)  # parameter initialisation and dropout
        model = DigitClassifier(architecture).to(device)
        _optimise(model, images, labels, config, device)
    return model.eval()


def _optimise(
    model: DigitClassifier,
    images: torch.Tensor,
    labels: torch.Tensor,
    config: TrainingConfig,
    device: torch.device,
) -> None:
    optimiser = torch.optim.Adam(
        model.parameters(), lr=config.learning_rate, weight_decay=config.weight_decay
    )
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimiser, T_max=config.steps)
    generator = torch.Generator().manual_seed(config.seed)  # batches and augmentation, on the CPU
    model.train()
    negatives = round(config.batch_size * config.negative_fraction)
    for step in range(config.steps):
        index = torch.randint(0, images.shape[0], (config.batch_size,), generator=generator)
        batch = torch.cat([images[index], not_digits(images, labels, negatives, generator)])
        batch = (
            augment(batch, config, generator).unsqueeze(1).to(device)
        )  # (B + negatives, 1, S, S)
        targets = torch.cat([labels[index], torch.full((negatives,), NOT_A_DIGIT)]).to(device)
        _, logits = model(batch)
        loss = F.cross_entropy(logits, targets)
        optimiser.zero_grad(set_to_none=True)
        loss.backward()
        optimiser.step()
        schedule.step()
        if (step + 1) % 1000 == 0:
            logger.info(
                "classifier step %d/%d: loss %.4f", step + 1, config.steps, float(loss.detach())
            )


def augment(
    images: torch.Tensor, config: TrainingConfig, generator: torch.Generator
) -> torch.Tensor:
    """Randomly translate (zero = -1 padding) and add pixel noise; (B, S, S) -> (B, S, S)."""
    batch, side, _ = images.shape
    shift = config.max_shift
    if shift > 0:
        padded = F.pad(images, (shift, shift, shift, shift), value=-1.0)  # (B, S+2s, S+2s)
        offsets = torch.randint(0, 2 * shift + 1, (batch, 2), generator=generator)
        rows = offsets[:, :1] + torch.arange(side)  # (B, S)
        columns = offsets[:, 1:] + torch.arange(side)  # (B, S)
        images = padded[torch.arange(batch)[:, None, None], rows[:, :, None], columns[:, None, :]]
    if config.noise_std > 0:
        noise = torch.randn(images.shape, generator=generator) * config.noise_std
        images = (images + noise).clamp(-1.0, 1.0)
    return images


def not_digits(
    images: torch.Tensor, labels: torch.Tensor, count: int, generator: torch.Generator
) -> torch.Tensor:
    """``count`` images (count, S, S) in [-1, 1] that show no single digit, in five kinds.

    Uniform noise, Gaussian noise, flat images of a random grey, digits with their
    pixels shuffled, and the pixel-wise maximum of two digits that differ (an
    overlay of two strokes).
    """
    side = images.shape[-1]
    kind = torch.arange(count) % 5  # (count,)
    uniform = torch.rand((count, side, side), generator=generator) * 2 - 1
    gaussian = torch.randn((count, side, side), generator=generator).clamp(-1, 1)
    flat = (torch.rand((count, 1, 1), generator=generator) * 2 - 1).expand(-1, side, side)
    first = torch.randint(0, images.shape[0], (count,), generator=generator)
    permutation = torch.randperm(side * side, generator=generator)
    shuffled = images[first].flatten(1)[:, permutation].reshape(count, side, side)
    second = torch.randint(0, images.shape[0], (count,), generator=generator)
    second = torch.where(labels[second] == labels[first], (second + 1) % images.shape[0], second)
    overlay = torch.maximum(images[first], images[second])
    options = torch.stack([uniform, gaussian, flat, shuffled, overlay])  # (5, count, S, S)
    return options[kind, torch.arange(count)]


@torch.no_grad()
def per_digit_accuracy(
    model: DigitClassifier, images: torch.Tensor, labels: torch.Tensor, batch_size: int = 4096
) -> torch.Tensor:
    """Accuracy of ``model`` on each digit 0..9, shape (10,) float64 (NaN for an absent digit).

    The prediction is the most probable digit; "not a digit" is never a prediction here.
    """
    images, labels = _check_training_data(images, labels, model.architecture.image_size)
    device = next(model.parameters()).device
    model.eval()
    predicted = torch.cat(
        [
            model(images[start : start + batch_size].unsqueeze(1).to(device))[1][:, :DIGITS]
            .argmax(1)
            .cpu()
            for start in range(0, images.shape[0], batch_size)
        ]
    )
    correct = torch.bincount(labels[predicted == labels], minlength=DIGITS).to(torch.float64)
    total = torch.bincount(labels, minlength=DIGITS).to(torch.float64)
    return correct / total


def held_out_accuracy(
    model: DigitClassifier, images: torch.Tensor, labels: torch.Tensor
) -> tuple[float, torch.Tensor]:
    """Overall accuracy on ``images`` and the (10,) per-class accuracies it averages.

    Absent classes count as accuracy 0 with weight 0.

    Example:
        >>> from collapsekit.classifier.model import architecture_for
        >>> model = DigitClassifier(architecture_for(8))
        >>> accuracy, per_class = held_out_accuracy(model, torch.zeros(4, 8, 8), torch.arange(4))
        >>> per_class.shape
        torch.Size([10])
    """
    per_class = per_digit_accuracy(model, images, labels)
    counts = torch.bincount(labels.to(torch.int64), minlength=DIGITS).to(torch.float64)
    accuracy = float((per_class.nan_to_num(0.0) * counts).sum() / counts.sum().clamp(min=1))
    return accuracy, per_class


def _check_training_data(
    images: torch.Tensor, labels: torch.Tensor, image_size: int
) -> tuple[torch.Tensor, torch.Tensor]:
    if images.dim() != 3 or tuple(images.shape[1:]) != (image_size, image_size):
        raise CollapsekitError(
            f"digit images must have shape (N, {image_size}, {image_size}), got {tuple(images.shape)}"
        )
    if labels.shape != (images.shape[0],):
        raise CollapsekitError(
            f"need one label per image: {images.shape[0]} images, labels of shape {tuple(labels.shape)}"
        )
    if labels.numel() and (labels.min() < 0 or labels.max() >= DIGITS):
        raise CollapsekitError(
            f"labels must lie in 0..9, got {int(labels.min())}..{int(labels.max())}"
        )
    return images.to(torch.float32), labels.to(torch.int64)
