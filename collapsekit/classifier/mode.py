"""The mode classifier of stacked images: three per-channel digit labels make one of 1000 modes.

The classifier gives each channel 11 logits: digits 0..9 and "not a digit"
(see ``collapsekit.classifier.model``). How the per-channel outputs combine:

- mode index: ``100 * d0 + 10 * d1 + d2`` with ``dc`` the most probable *digit*
  of channel ``c`` (the "not a digit" class never names a mode);
- confidence: the probability of that digit under the softmax over all 11
  classes, (N, 3); mass on "not a digit" lowers it, so noise or a blank channel
  has low confidence while its mode index is still defined;
- features (for FID, KID, precision/recall, density/coverage): the penultimate
  activations of the three channels concatenated, (N, 3 * hidden) = (N, 384);
- triple probabilities (for IS): ``p(d0, d1, d2 | x) = p0(d0 | x0) p1(d1 | x1) p2(d2 | x2)``,
  the product of the three per-channel softmaxes over the ten digits (the "not a
  digit" logit left out), because the classifier labels each channel on its own.
  ``triple_logits`` returns its logarithm, (N, 1000), which is a valid logit
  vector (its softmax is the product itself), so the Inception Score over it
  lies in [1, 1000].
"""

from __future__ import annotations

import copy

import torch

from collapsekit.classifier.model import CLASSES, DIGITS, DigitClassifier
from collapsekit.errors import CollapsekitError

CHANNELS = 3
MODES = DIGITS**CHANNELS  # 1000 triples
_PLACE = torch.tensor([100, 10, 1])  # mode = 100 d0 + 10 d1 + d2
# Channel images per forward pass. On one CPU thread 512 classified 28x28 images in 84 us each
# against 146 us at 8192 (whose activations outgrow the caches); a GPU wants large batches.
CPU_BATCH_SIZE = 512
GPU_BATCH_SIZE = 8192


def best_device() -> torch.device:
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


class ModeClassifier:
    """Labels stacked digit images (N, 3, S, S) in [-1, 1] with one of 1000 modes.

    Example:
        >>> from collapsekit.classifier import load_digits_classifier
        >>> classifier = load_digits_classifier()
        >>> mode, confidence = classifier.predict(torch.zeros(2, 3, 8, 8))
        >>> mode.shape, confidence.shape
        (torch.Size([2]), torch.Size([2, 3]))
    """

    def __init__(
        self,
        model: DigitClassifier,
        device: str | torch.device | None = None,
        batch_size: int | None = None,
        checksum: str = "",
    ) -> None:
        self.device = torch.device(device) if device is not None else best_device()
        if next(model.parameters()).device != self.device:
            model = copy.deepcopy(model).to(self.device)  # never move a model another owner holds
        self.model = model.eval()
        default = GPU_BATCH_SIZE if self.device.type == "cuda" else CPU_BATCH_SIZE
        self.batch_size = int(batch_size or default)  # channel images per forward pass
        self.checksum = checksum  # sha256 of the weights file it came from, for provenance
        self.image_size = model.architecture.image_size

    @property
    def feature_size(self) -> int:
        return CHANNELS * self.model.architecture.feature_size

    @torch.no_grad()
    def features_and_logits(self, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Per-channel features (N, 3 * hidden) and logits (N, 3, 11), on the CPU."""
        images = self._check(images)
        channels = images.reshape(-1, 1, self.image_size, self.image_size)  # (3N, 1, S, S)
        features, logits = [], []
        for start in range(0, channels.shape[0], self.batch_size):
            chunk = channels[start : start + self.batch_size].to(self.device, torch.float32)
            chunk_features, chunk_logits = self.model(chunk)
            features.append(chunk_features.float().cpu())
            logits.append(chunk_logits.float().cpu())
        count = images.shape[0]
        features = torch.cat(features).reshape(count, -1)  # (N, 3 * hidden)
        return features, torch.cat(logits).reshape(count, CHANNELS, CLASSES)

    def predict(self, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Mode index (N,) int64 in 0..999 and per-channel confidence (N, 3) in [0, 1]."""
        _, logits = self.features_and_logits(images)
        return logits_to_modes(logits)

    def features(self, images: torch.Tensor) -> torch.Tensor:
        """Penultimate-layer features of the three channels, concatenated: (N, 3 * hidden)."""
        return self.features_and_logits(images)[0]

    def triple_logits(self, images: torch.Tensor) -> torch.Tensor:
        """Log of the product of the per-channel digit softmaxes, (N, 1000), indexed like the modes."""
        return logits_to_triple_logits(self.features_and_logits(images)[1])

    def _check(self, images: torch.Tensor) -> torch.Tensor:
        expected = (CHANNELS, self.image_size, self.image_size)
        if (
            not isinstance(images, torch.Tensor)
            or images.dim() != 4
            or tuple(images.shape[1:]) != expected
        ):
            shape = (
                tuple(images.shape) if isinstance(images, torch.Tensor) else type(images).__name__
            )
            raise CollapsekitError(
                f"the mode classifier takes images of shape (N, {', '.join(map(str, expected))}), "
                f"got {shape}; reshape samples to (N, channels, height, width)"
            )
        return images


def logits_to_modes(logits: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-channel logits (N, 3, 11) -> mode index (N,) and probability of each channel's digit (N, 3).

    Example:
        >>> logits = torch.full((1, 3, 11), -9.0)
        >>> logits[0, 0, 1] = logits[0, 1, 2] = logits[0, 2, 3] = 9.0
        >>> logits_to_modes(logits)[0]
        tensor([123])
    """
    _check_logits(logits)
    probabilities = logits.softmax(dim=2)[:, :, :DIGITS]  # (N, 3, 10), "not a digit" dropped
    confidence, digits = probabilities.max(dim=2)  # (N, 3), (N, 3)
    return (digits * _PLACE).sum(dim=1), confidence


def logits_to_triple_logits(logits: torch.Tensor) -> torch.Tensor:
    """(N, 3, 11) -> (N, 1000): ``log p0(d0) + log p1(d1) + log p2(d2)`` at ``100 d0 + 10 d1 + d2``.

    Each ``pc`` is the softmax of channel ``c`` over the ten digit logits.

    Example:
        >>> triple = logits_to_triple_logits(torch.zeros(1, 3, 11))
        >>> triple.shape, round(float(triple.exp().sum()), 6)
        (torch.Size([1, 1000]), 1.0)
    """
    _check_logits(logits)
    log_p = logits[:, :, :DIGITS].log_softmax(dim=2)  # (N, 3, 10)
    triple = (
        log_p[:, 0, :, None, None] + log_p[:, 1, None, :, None] + log_p[:, 2, None, None, :]
    )  # (N, 10, 10, 10)
    return triple.reshape(logits.shape[0], MODES)


def _check_logits(logits: torch.Tensor) -> None:
    if logits.dim() != 3 or tuple(logits.shape[1:]) != (CHANNELS, CLASSES):
        raise CollapsekitError(
            f"expected per-channel logits of shape (N, {CHANNELS}, {CLASSES}), got {tuple(logits.shape)}"
        )
