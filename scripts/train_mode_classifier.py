"""Regenerate a shipped mode classifier (stacked-digits or stacked-fashion), deterministically.

Trains the per-channel CNN (``collapsekit.classifier``) on the CPU, one thread,
deterministic algorithms, seed 0, measures its per-class accuracy on held-out
images, and writes the weights into ``collapsekit/classifier/weights/`` with their
checksum record (``.json`` beside the ``.pt``). With the same torch version and
CPU type the file is bit-for-bit the same; ``--check`` retrains and compares
without overwriting.

- ``stacked-digits``: scikit-learn's 8x8 digits, training split; held out: every
  fifth image of each digit (``collapsekit.data.digits``). About 1.5 CPU-minutes.
- ``stacked-fashion``: Fashion-MNIST's 60,000 training images (Debian's
  ``dataset-fashion-mnist``, or ``--root``); held out: its 10,000 test images.
  About 7 CPU-minutes.

Usage:
    python scripts/train_mode_classifier.py                             # stacked-digits
    python scripts/train_mode_classifier.py --dataset stacked-fashion   # stacked-fashion
    python scripts/train_mode_classifier.py --dataset stacked-fashion --check
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import torch

from collapsekit.classifier import (
    DIGITS_WEIGHTS,
    FASHION_WEIGHTS,
    Architecture,
    TrainingConfig,
    architecture_for,
    held_out_accuracy,
    save_classifier,
    train_classifier,
)
from collapsekit.classifier.store import read_checksum
from collapsekit.data.digits import source_digits, to_unit_range
from collapsekit.data.fashion import FASHION_CLASSES, load_fashion_mnist

Splits = tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]  # train and held-out


@dataclass(frozen=True)
class Recipe:
    """How one shipped classifier is made."""

    weights: Path  # the shipped file
    architecture: Architecture
    config: TrainingConfig
    pixel_max: float  # source pixels lie in 0..pixel_max
    per_class_key: str  # metadata key of the per-class accuracies
    load: Callable[[str], Splits]  # root -> train images, labels, held-out images, labels
    description: Callable[[str], dict]  # root -> fixed metadata (dataset, source, ...)


def digit_splits(root: str) -> Splits:
    return (*source_digits("train"), *source_digits("held-out"))


def fashion_splits(root: str) -> Splits:
    fashion = load_fashion_mnist(root)
    return (*fashion["train"], *fashion["test"])


RECIPES = {
    "stacked-digits": Recipe(
        weights=DIGITS_WEIGHTS,
        architecture=architecture_for(8),
        config=TrainingConfig(steps=4000, batch_size=128, max_shift=1, noise_std=0.05, seed=0),
        pixel_max=16.0,
        per_class_key="held_out_per_digit_accuracy",
        load=digit_splits,
        description=lambda root: {
            "dataset": "stacked-digits",
            "source": "sklearn.datasets.load_digits, every 5th image of each digit held out",
        },
    ),
    "stacked-fashion": Recipe(
        weights=FASHION_WEIGHTS,
        architecture=architecture_for(28),
        config=TrainingConfig(steps=12000, batch_size=128, max_shift=1, noise_std=0.05, seed=0),
        pixel_max=255.0,
        per_class_key="held_out_per_class_accuracy",
        load=fashion_splits,
        description=lambda root: {
            "dataset": "stacked-fashion",
            "source": "Fashion-MNIST (Debian's dataset-fashion-mnist): trained on the 60,000 "
            "training images, held out: the 10,000 test images",
            "files_sha256": load_fashion_mnist(root)["sha256"],
            "classes": list(FASHION_CLASSES),
        },
    ),
}


def parse_arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--dataset", choices=sorted(RECIPES), default="stacked-digits")
    parser.add_argument("--steps", type=int, help="optimiser steps (default: the recipe's)")
    parser.add_argument("--seed", type=int, default=0, help="training seed")
    parser.add_argument("--root", default="", help="stacked-fashion: folder of the IDX files")
    parser.add_argument("--out", type=Path, help="weights file to write (default: the shipped one)")
    parser.add_argument(
        "--check", action="store_true", help="retrain into a temporary file and compare checksums"
    )
    return parser.parse_args()


def train_and_score(
    recipe: Recipe, config: TrainingConfig, root: str
) -> tuple[torch.nn.Module, dict]:
    """Train on the training images, score on the held-out ones; return the model and its metadata."""
    torch.set_num_threads(1)  # summation order, hence the bits, must not depend on the core count
    torch.use_deterministic_algorithms(True)
    train_images, train_labels, held_images, held_labels = recipe.load(root)
    model = train_classifier(
        to_unit_range(train_images, recipe.pixel_max), train_labels, recipe.architecture, config
    )
    accuracy, per_class = held_out_accuracy(
        model, to_unit_range(held_images, recipe.pixel_max), held_labels
    )
    metadata = {
        **recipe.description(root),
        "train_images": int(train_labels.numel()),
        "held_out_images": int(held_labels.numel()),
        "held_out_accuracy": accuracy,
        recipe.per_class_key: [round(float(a), 6) for a in per_class],
        "training": config.to_dict(),
        "torch_version": str(torch.__version__),
    }
    return model, metadata


def main() -> int:
    arguments = parse_arguments()
    recipe = RECIPES[arguments.dataset]
    out = arguments.out or recipe.weights
    overrides = {"seed": arguments.seed} | ({"steps": arguments.steps} if arguments.steps else {})
    config = TrainingConfig(**{**recipe.config.to_dict(), **overrides})
    started = time.perf_counter()
    model, metadata = train_and_score(recipe, config, arguments.root)
    print(f"trained in {time.perf_counter() - started:.0f} s")
    print(
        f"held-out accuracy {metadata['held_out_accuracy']:.4f} on {metadata['held_out_images']} images"
    )
    print(
        "per class:", " ".join(f"{c}:{a:.3f}" for c, a in enumerate(metadata[recipe.per_class_key]))
    )
    if arguments.check:
        with tempfile.TemporaryDirectory() as folder:
            digest = save_classifier(model, Path(folder) / out.name, metadata)
        shipped = read_checksum(out)["sha256"]
        print(f"regenerated sha256 {digest}\nshipped     sha256 {shipped}")
        return 0 if digest == shipped else 1
    digest = save_classifier(model, out, metadata)
    print(f"wrote {out} ({out.stat().st_size / 1024:.0f} KiB, sha256 {digest})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
