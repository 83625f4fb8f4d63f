"""Stacked MNIST from the user's own MNIST files: ``stacked-mnist:root=PATH``. Nothing is downloaded.

``root`` holds the four standard IDX files, gzipped or not (``root/MNIST/raw``,
torchvision's layout, is searched too)::

    train-images-idx3-ubyte[.gz]  train-labels-idx1-ubyte[.gz]
    t10k-images-idx3-ubyte[.gz]   t10k-labels-idx1-ubyte[.gz]

Samples are (3, 28, 28) in [-1, 1], built as ``stacked-digits`` is (see
``collapsekit.data.digits``). The mode classifier is trained on the training
files on first use (a minute or two on a CPU) and cached under the user cache
folder (``collapsekit.classifier.cache_folder``), keyed by the sha256 of the
files' decompressed contents and the training settings; its accuracy on the
t10k files is logged and stored beside the cached weights.
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
from pathlib import Path

import torch

from collapsekit.classifier import (
    ModeClassifier,
    TrainingConfig,
    architecture_for,
    cached_classifier,
    held_out_accuracy,
    train_classifier,
)
from collapsekit.classifier.mode import best_device
from collapsekit.data.digits import StackedDigits, to_unit_range
from collapsekit.data.idx import IDX_SPLITS, IMAGE_SIDE, load_idx_splits
from collapsekit.errors import CollapsekitError

logger = logging.getLogger(__name__)

DEFAULT_CLASSIFIER_STEPS = 3000  # about 6 epochs of MNIST at batch 128
HOW_TO_GET_MNIST = (
    "put the standard MNIST IDX files there or pass root=PATH pointing at the folder that "
    "holds them; nothing is downloaded"
)


@functools.lru_cache(maxsize=2)
def load_mnist(root: str) -> dict[str, tuple[torch.Tensor, torch.Tensor]]:
    """MNIST from ``root``: ``{"train": (images, labels), "test": (...)}``, plus ``"sha256"`` of the contents.

    Images are uint8 (N, 28, 28), labels int64 (N,).
    """
    return load_idx_splits(root, "stacked-mnist", HOW_TO_GET_MNIST)


def mnist_classifier(root: str, steps: int = DEFAULT_CLASSIFIER_STEPS) -> ModeClassifier:
    """The stacked-mnist mode classifier for the files under ``root``: cached, or trained now."""
    mnist = load_mnist(root)
    config = TrainingConfig(steps=steps, batch_size=128, max_shift=2, noise_std=0.05, seed=0)
    architecture = architecture_for(IMAGE_SIDE)
    settings = json.dumps([config.to_dict(), architecture.to_dict()], sort_keys=True)
    key = hashlib.sha256((mnist["sha256"] + settings).encode()).hexdigest()[:20]

    def train() -> tuple[torch.nn.Module, dict]:
        train_images, train_labels = mnist["train"]
        test_images, test_labels = mnist["test"]
        model = train_classifier(
            to_unit_range(train_images, 255.0), train_labels, architecture, config, best_device()
        )
        accuracy, per_digit = held_out_accuracy(
            model, to_unit_range(test_images, 255.0), test_labels
        )
        logger.info(
            "stacked-mnist classifier: accuracy %.4f on the %d t10k images",
            accuracy,
            len(test_labels),
        )
        metadata = {
            "dataset": "stacked-mnist",
            "files_sha256": mnist["sha256"],
            "held_out_accuracy": accuracy,
            "held_out_per_digit_accuracy": [float(a) for a in per_digit],
            "training": config.to_dict(),
            "torch_version": str(torch.__version__),
        }
        return model, metadata

    return cached_classifier(f"stacked-mnist-{key}", train)


def stacked_mnist(
    root: str = "",
    split: str = "train",
    min_confidence: float = 0.5,
    classifier_steps: int = DEFAULT_CLASSIFIER_STEPS,
) -> StackedDigits:
    """The ``stacked-mnist`` dataset: (3, 28, 28) images of the MNIST files under ``root``.

    Example:
        >>> data = stacked_mnist(root="~/data/mnist")  # doctest: +SKIP
        >>> data.sample_shape
        (3, 28, 28)
    """
    if not root:
        raise CollapsekitError(
            "stacked-mnist needs the folder of your MNIST IDX files: --data stacked-mnist:root=PATH"
        )
    if split not in IDX_SPLITS:
        raise CollapsekitError(f"split must be train or test, got {split!r}")
    if classifier_steps < 1:
        raise CollapsekitError(f"classifier_steps must be >= 1, got {classifier_steps}")
    root = str(Path(root).expanduser().resolve())
    images, labels = load_mnist(root)[split]
    spec = f"stacked-mnist:root={root},split={split},min_confidence={min_confidence:g}"
    if classifier_steps != DEFAULT_CLASSIFIER_STEPS:
        spec += f",classifier_steps={classifier_steps}"
    return StackedDigits(
        "stacked-mnist",
        images,
        labels,
        pixel_max=255.0,
        classifier=functools.partial(mnist_classifier, root, classifier_steps),
        min_confidence=min_confidence,
        spec=spec,
    )
