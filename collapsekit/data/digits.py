"""Stacked digits: three independent digits stacked as colour channels, 1000 modes.

``stacked-digits`` builds them offline from scikit-learn's bundled 8x8 handwritten
digits (``sklearn.datasets.load_digits``: 1,797 images, nothing downloaded), so
samples are (3, 8, 8) in [-1, 1]. ``stacked-mnist`` (``collapsekit.data.mnist``)
is the same construction from a user's MNIST files, (3, 28, 28).

Modes and quality, for both:

- mode of a sample: ``100 * d0 + 10 * d1 + d2``, the digits the mode classifier
  reads in channels 0, 1, 2 (``collapsekit.classifier``);
- high quality: each of the three channels is classified with softmax
  probability at least ``min_confidence`` (0.5 by default: the classifier is
  more sure of its label than of all other digits together). With
  ``min_confidence=0`` every sample counts, which is the papers' protocol
  (VEEGAN, PacGAN count the predicted triples of all samples);
- real sampling draws each channel's digit uniformly from 0..9 and then an image
  of that digit uniformly, so the 1000 modes have equal weight 1/1000 exactly.

Source split of the 8x8 digits: within each digit, in the order of
``load_digits``, every fifth image (positions 4, 9, 14, ...) is held out (355
images); the other 1,442 are the training split. The shipped classifier is
trained on the training split only; its accuracy on the held-out split is stated
in ``docs/datasets.md``. Real samples come from the training split by default.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

import torch

from collapsekit.classifier import ModeClassifier, load_digits_classifier
from collapsekit.classifier.mode import CHANNELS, MODES
from collapsekit.data.base import Dataset
from collapsekit.errors import CollapsekitError

DIGIT_SPLITS = ("train", "held-out", "all")
HOLD_OUT_EVERY = 5  # every fifth image of each digit is held out
RANGE_TOLERANCE = 1e-3  # float rounding of a tanh output may step just past +-1


class StackedDigits(Dataset):
    """Three source digit images stacked as channels; 1000 equally likely modes.

    ``images`` (M, S, S) are the source digits as integers in 0..``pixel_max``,
    ``labels`` (M,) their digits; the classifier is loaded on first ``assign``.

    Example:
        >>> from collapsekit.data import get_dataset
        >>> digits = get_dataset("stacked-digits")
        >>> x = digits.sample(4, generator=torch.Generator().manual_seed(0))
        >>> x.shape, digits.modes_total
        (torch.Size([4, 3, 8, 8]), 1000)
    """

    eval_samples = 26000  # as VEEGAN and PacGAN on stacked MNIST
    feature_space = "mode-classifier"

    def __init__(
        self,
        name: str,
        images: torch.Tensor,
        labels: torch.Tensor,
        pixel_max: float,
        classifier: ModeClassifier | Callable[[], ModeClassifier],
        min_confidence: float = 0.5,
        spec: str | None = None,
    ) -> None:
        if not 0 <= min_confidence <= 1:
            raise CollapsekitError(f"min_confidence must lie in [0, 1], got {min_confidence}")
        missing = sorted(set(range(10)) - set(labels.unique().tolist()))
        if missing:
            raise CollapsekitError(f"{name} needs images of every class 0..9; none of {missing}")
        self.name = name
        side = int(images.shape[-1])
        self.sample_shape = (CHANNELS, side, side)
        self.pixel_max = float(pixel_max)
        self.min_confidence = float(min_confidence)
        order = torch.argsort(labels, stable=True)
        self._images = images[order]  # (M, S, S) grouped by digit
        self._counts = torch.bincount(labels, minlength=10)  # (10,) images per digit
        self._starts = (
            torch.cumsum(self._counts, 0) - self._counts
        )  # (10,) first index of each digit
        self._classifier = classifier
        self._spec = spec or name

    @property
    def mode_weights(self) -> torch.Tensor:
        return torch.full((MODES,), 1.0 / MODES, dtype=torch.float64)

    @property
    def spec(self) -> str:
        return self._spec

    @property
    def classifier(self) -> ModeClassifier:
        """The mode classifier, loaded (or for stacked-mnist trained) on first use."""
        if not hasattr(self._classifier, "predict"):  # a loader, called once
            self._classifier = self._classifier()
        return self._classifier

    def sample(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        return self.sample_with_modes(n, generator)[0]

    def sample_with_modes(
        self, n: int, generator: torch.Generator | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Real samples (n, 3, S, S) in [-1, 1] and their true modes (n,) int64."""
        if n < 0:
            raise CollapsekitError(f"cannot draw a negative number of samples, got n={n}")
        digits = torch.randint(0, 10, (n, CHANNELS), generator=generator)  # (n, 3)
        uniform = torch.rand((n, CHANNELS), generator=generator, dtype=torch.float64)
        position = (uniform * self._counts[digits]).long().clamp(max=self._counts[digits] - 1)
        images = self._images[self._starts[digits] + position]  # (n, 3, S, S)
        return to_unit_range(images, self.pixel_max), (digits * torch.tensor([100, 10, 1])).sum(
            dim=1
        )

    def assign(self, samples: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        samples = self.validate_samples(samples)
        mode, confidence = self.classifier.predict(samples)  # (N,), (N, 3)
        return mode, confidence.min(dim=1).values >= self.min_confidence

    def mode_log_posterior(self, samples: torch.Tensor) -> torch.Tensor:
        """log p(mode | x), (N, 1000): the sum of the three channels' log-softmaxes (for IS)."""
        return self.classifier.triple_logits(self.validate_samples(samples))

    def validate_samples(self, samples: torch.Tensor, what: str = "samples") -> torch.Tensor:
        """Check shape (N, 3, S, S), finiteness and the range [-1, 1]."""
        samples = super().validate_samples(samples, what)
        low, high = float(samples.min()), float(samples.max())
        if low < -1 - RANGE_TOLERANCE or high > 1 + RANGE_TOLERANCE:
            raise CollapsekitError(
                f"{what} range over [{low:.4g}, {high:.4g}], but {self.name} images lie in [-1, 1]; "
                "rescale them (from [0, 255]: x / 127.5 - 1; from [0, 1]: 2 * x - 1) "
                "or end the generator with tanh"
            )
        return samples


@functools.lru_cache(maxsize=1)
def _load_source_digits() -> tuple[torch.Tensor, torch.Tensor]:
    from sklearn.datasets import load_digits  # bundled with scikit-learn: no download

    bunch = load_digits()
    images = torch.as_tensor(bunch.images).round().to(torch.uint8)  # (1797, 8, 8) in 0..16
    return images, torch.as_tensor(bunch.target, dtype=torch.int64)


def held_out_mask(labels: torch.Tensor) -> torch.Tensor:
    """True for every fifth image of each digit (positions 4, 9, ... within the digit), (M,) bool."""
    mask = torch.zeros(labels.shape[0], dtype=torch.bool)
    for digit in range(10):
        positions = (labels == digit).nonzero().squeeze(1)
        mask[positions[HOLD_OUT_EVERY - 1 :: HOLD_OUT_EVERY]] = True
    return mask


def source_digits(split: str = "train") -> tuple[torch.Tensor, torch.Tensor]:
    """The 8x8 source digits of ``split`` as uint8 images (M, 8, 8) in 0..16 and labels (M,).

    Example:
        >>> images, labels = source_digits("held-out")
        >>> images.shape
        torch.Size([355, 8, 8])
    """
    if split not in DIGIT_SPLITS:
        raise CollapsekitError(f"split must be one of {', '.join(DIGIT_SPLITS)}, got {split!r}")
    images, labels = _load_source_digits()
    if split == "all":
        return images, labels
    keep = held_out_mask(labels)
    keep = keep if split == "held-out" else ~keep
    return images[keep], labels[keep]


def to_unit_range(images: torch.Tensor, pixel_max: float) -> torch.Tensor:
    """Integer pixels in 0..pixel_max -> float32 in [-1, 1]."""
    return images.to(torch.float32) * (2.0 / pixel_max) - 1.0


def stacked_digits(split: str = "train", min_confidence: float = 0.5) -> StackedDigits:
    """The ``stacked-digits`` dataset: (3, 8, 8) images of the ``split`` source digits.

    Example:
        >>> stacked_digits(split="held-out").spec
        'stacked-digits:split=held-out,min_confidence=0.5'
    """
    images, labels = source_digits(split)
    spec = f"stacked-digits:split={split},min_confidence={min_confidence:g}"
    return StackedDigits(
        "stacked-digits",
        images,
        labels,
        pixel_max=16.0,
        classifier=load_digits_classifier,
        min_confidence=min_confidence,
        spec=spec,
    )
