"""The per-channel digit classifier: a small CNN that labels one grey digit image.

A stacked image (3, H, W) holds three digits, one per channel; the classifier
labels each channel on its own, and the mode of the image is the triple
``100 * d0 + 10 * d1 + d2`` (see ``collapsekit.classifier.mode``).

Besides the ten digits it has an eleventh class, "not a digit", trained on
noise, blank images, pixel-shuffled digits and overlaid pairs of digits. Without
it a digit classifier labels a blank image as some digit with probability 0.999,
so a generator stuck on blank channels would look like high-quality samples.

The same net labels Fashion-MNIST items for ``stacked-fashion``: classes 0..9 are
the ten items and class 10 is "not an item".
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
from torch import nn

from collapsekit.errors import CollapsekitError

DIGITS = 10  # digit classes per channel
NOT_A_DIGIT = DIGITS  # index of the extra class for images that show no single digit
CLASSES = DIGITS + 1


@dataclass(frozen=True)
class Architecture:
    """Shape of a ``DigitClassifier``; stored inside every weights file so it rebuilds itself.

    Example:
        >>> Architecture(image_size=8).feature_size
        128
    """

    image_size: int  # side of the square input: 8 (stacked-digits), 28 (stacked-mnist, -fashion)
    widths: tuple[int, ...] = (16, 32, 64)  # channels of each 3x3 conv stage
    pools: tuple[bool, ...] = (False, True, True)  # 2x2 max-pool after the stage (8 -> 4 -> 2)
    hidden: int = 128  # width of the penultimate layer: the feature space for FID and friends
    dropout: float = 0.25  # before the last layer; inactive in eval mode

    def __post_init__(self) -> None:
        if len(self.widths) != len(self.pools) or not self.widths:
            raise CollapsekitError(
                f"widths {self.widths} and pools {self.pools} need the same non-zero length"
            )
        if self.final_side < 1:
            raise CollapsekitError(
                f"image_size={self.image_size} is too small for {sum(self.pools)} pooling stages"
            )

    @property
    def final_side(self) -> int:
        side = self.image_size
        for pool in self.pools:
            side = side // 2 if pool else side
        return side

    @property
    def feature_size(self) -> int:
        """Width of the features of one channel (the penultimate layer)."""
        return self.hidden

    def to_dict(self) -> dict:
        return {key: list(v) if isinstance(v, tuple) else v for key, v in asdict(self).items()}

    @classmethod
    def from_dict(cls, values: dict) -> Architecture:
        converted = {k: tuple(v) if isinstance(v, list) else v for k, v in values.items()}
        return cls(**converted)


def architecture_for(image_size: int) -> Architecture:
    """The default architecture for 8x8 (stacked-digits) or 28x28 (stacked-mnist, stacked-fashion) images."""
    if image_size == 28:
        # pool at every stage (28 -> 14 -> 7 -> 3): about 0.6M multiply-adds per channel
        return Architecture(image_size=28, widths=(8, 16, 32), pools=(True, True, True))
    return Architecture(image_size=image_size)


class DigitClassifier(nn.Module):
    """CNN from one grey image (B, 1, S, S) in [-1, 1] to 11 logits: digits 0..9, then "not a digit".

    Example:
        >>> model = DigitClassifier(Architecture(image_size=8))
        >>> features, logits = model(torch.zeros(2, 1, 8, 8))
        >>> features.shape, logits.shape
        (torch.Size([2, 128]), torch.Size([2, 11]))
    """

    def __init__(self, architecture: Architecture) -> None:
        super().__init__()
        self.architecture = architecture
        stages: list[nn.Module] = []
        channels_in = 1
        for width, pool in zip(architecture.widths, architecture.pools, strict=True):
            stages += [nn.Conv2d(channels_in, width, kernel_size=3, padding=1), nn.ReLU()]
            if pool:
                stages.append(nn.MaxPool2d(2))
            channels_in = width
        self.convolutions = nn.Sequential(*stages)
        flat = channels_in * architecture.final_side**2
        self.penultimate = nn.Sequential(
            nn.Flatten(), nn.Linear(flat, architecture.hidden), nn.ReLU()
        )
        self.dropout = nn.Dropout(architecture.dropout)
        self.head = nn.Linear(architecture.hidden, CLASSES)

    def forward(self, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Return ``(features, logits)``: (B, hidden) penultimate activations and (B, 11)."""
        features = self.penultimate(self.convolutions(images))  # (B, hidden)
        logits = self.head(self.dropout(features))  # (B, 11)
        return features, logits
