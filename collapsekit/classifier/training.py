"""Training and scoring the digit classifier, deterministically for a given seed and device.

On the CPU with a fixed torch version the result is bit-for-bit reproducible:
``scripts/train_digit_classifier.py`` regenerates the shipped weights this way.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass

import torch
import torch.nn.functional as F

from collapsekit.classifier.model import DIGITS, Architecture, DigitClassifier
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
    seed: int = 0

    def __post_init__(self) -> None:
        if self.steps < 1 or self.batch_size < 1:
            raise CollapsekitError(
                f"steps and batch_size must be >= 1, got steps={self.steps}, batch_size={self.batch_size}"
            )
        if self.max_shift < 0 or self.noise_std < 0:
            raise CollapsekitError("max_shift and noise_std must be >= 0")

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
    torch.manual_seed(config.seed)  # parameter initialisation
    model = DigitClassifier(architecture).to(device)
    optimiser = torch.optim.Adam(
        model.parameters(), lr=config.learning_rate, weight_decay=config.weight_decay
    )
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimiser, T_max=config.steps)
    generator = torch.Generator().manual_seed(config.seed)  # batches and augmentation, on the CPU
    model.train()
    for step in range(config.steps):
        index = torch.randint(0, images.shape[0], (config.batch_size,), generator=generator)
        batch = augment(images[index], config, generator).unsqueeze(1).to(device)  # (B, 1, S, S)
        _, logits = model(batch)
        loss = F.cross_entropy(logits, labels[index].to(device))
        optimiser.zero_grad(set_to_none=True)
        loss.backward()
        optimiser.step()
        schedule.step()
        if (step + 1) % 1000 == 0:
            logger.info("classifier step %d/%d: loss %.4f", step + 1, config.steps, float(loss.detach()))
    return model.eval()


def augment(images: torch.Tensor, config: TrainingConfig, generator: torch.Generator) -> torch.Tensor:
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


@torch.no_grad()
def per_digit_accuracy(
    model: DigitClassifier, images: torch.Tensor, labels: torch.Tensor, batch_size: int = 4096
) -> torch.Tensor:
    """Accuracy of ``model`` on each digit 0..9, shape (10,) float64 (NaN for an absent digit)."""
    images, labels = _check_training_data(images, labels, model.architecture.image_size)
    device = next(model.parameters()).device
    model.eval()
    predicted = torch.cat(
        [
            model(images[start : start + batch_size].unsqueeze(1).to(device))[1].argmax(1).cpu()
            for start in range(0, images.shape[0], batch_size)
        ]
    )
    correct = torch.bincount(labels[predicted == labels], minlength=DIGITS).to(torch.float64)
    total = torch.bincount(labels, minlength=DIGITS).to(torch.float64)
    return correct / total


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
        raise CollapsekitError(f"labels must lie in 0..9, got {int(labels.min())}..{int(labels.max())}")
    return images.to(torch.float32), labels.to(torch.int64)
