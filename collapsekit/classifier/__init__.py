"""The mode classifier for stacked images (digits, Fashion-MNIST items): a small per-channel CNN, its training and its weights.

Example:
    >>> import torch
    >>> from collapsekit.classifier import load_digits_classifier
    >>> classifier = load_digits_classifier()  # shipped weights, checksum verified
    >>> classifier.triple_logits(torch.zeros(1, 3, 8, 8)).shape
    torch.Size([1, 1000])
"""

from __future__ import annotations

from collapsekit.classifier.mode import (
    MODES,
    ModeClassifier,
    logits_to_modes,
    logits_to_triple_logits,
)
from collapsekit.classifier.model import Architecture, DigitClassifier, architecture_for
from collapsekit.classifier.store import (
    DIGITS_WEIGHTS,
    FASHION_WEIGHTS,
    cache_folder,
    cached_classifier,
    load_classifier,
    load_digits_classifier,
    load_fashion_classifier,
    save_classifier,
)
from collapsekit.classifier.training import (
    TrainingConfig,
    held_out_accuracy,
    per_digit_accuracy,
    train_classifier,
)

__all__ = [
    "DIGITS_WEIGHTS",
    "FASHION_WEIGHTS",
    "MODES",
    "Architecture",
    "DigitClassifier",
    "ModeClassifier",
    "TrainingConfig",
    "architecture_for",
    "cache_folder",
    "cached_classifier",
    "held_out_accuracy",
    "load_classifier",
    "load_digits_classifier",
    "load_fashion_classifier",
    "logits_to_modes",
    "logits_to_triple_logits",
    "per_digit_accuracy",
    "save_classifier",
    "train_classifier",
]
