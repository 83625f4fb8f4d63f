"""Regenerate the shipped stacked-digits mode classifier, deterministically.

Trains the per-channel digit CNN on the training split of scikit-learn's 8x8
digits (on the CPU, one thread, deterministic algorithms, seed 0), measures its
per-digit accuracy on the held-out split, and writes
``collapsekit/classifier/weights/stacked-digits-8x8.pt`` plus its checksum record
``stacked-digits-8x8.json``. With the same torch version and CPU type the file is
bit-for-bit the same; ``--check`` retrains and compares without overwriting.

Usage:
    python scripts/train_digit_classifier.py           # regenerate the shipped weights
    python scripts/train_digit_classifier.py --check   # verify they regenerate identically
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import torch

from collapsekit.classifier import (
    DIGITS_WEIGHTS,
    TrainingConfig,
    architecture_for,
    per_digit_accuracy,
    save_classifier,
    train_classifier,
)
from collapsekit.classifier.store import read_checksum
from collapsekit.data.digits import source_digits, to_unit_range

DEFAULT_CONFIG = TrainingConfig(steps=4000, batch_size=128, max_shift=1, noise_std=0.05, seed=0)


def parse_arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--steps", type=int, default=DEFAULT_CONFIG.steps, help="optimiser steps")
    parser.add_argument("--seed", type=int, default=DEFAULT_CONFIG.seed, help="training seed")
    parser.add_argument("--out", type=Path, default=DIGITS_WEIGHTS, help="weights file to write")
    parser.add_argument(
        "--check", action="store_true", help="retrain into a temporary file and compare checksums"
    )
    return parser.parse_args()


def train_and_score(config: TrainingConfig) -> tuple[torch.nn.Module, dict]:
    """Train on the training split, score on the held-out split; return the model and its metadata."""
    torch.set_num_threads(1)  # summation order, hence the bits, must not depend on the core count
    torch.use_deterministic_algorithms(True)
    train_images, train_labels = source_digits("train")
    held_images, held_labels = source_digits("held-out")
    architecture = architecture_for(8)
    model = train_classifier(to_unit_range(train_images, 16.0), train_labels, architecture, config)
    per_digit = per_digit_accuracy(model, to_unit_range(held_images, 16.0), held_labels)
    counts = torch.bincount(held_labels, minlength=10).to(torch.float64)
    metadata = {
        "dataset": "stacked-digits",
        "source": "sklearn.datasets.load_digits, every 5th image of each digit held out",
        "train_images": int(train_labels.numel()),
        "held_out_images": int(held_labels.numel()),
        "held_out_accuracy": float((per_digit * counts).sum() / counts.sum()),
        "held_out_per_digit_accuracy": [round(float(a), 6) for a in per_digit],
        "training": config.to_dict(),
        "torch_version": str(torch.__version__),
    }
    return model, metadata


def main() -> int:
    arguments = parse_arguments()
    config = TrainingConfig(
        **{**DEFAULT_CONFIG.to_dict(), "steps": arguments.steps, "seed": arguments.seed}
    )
    started = time.perf_counter()
    model, metadata = train_and_score(config)
    print(f"trained in {time.perf_counter() - started:.0f} s")
    print(
        f"held-out accuracy {metadata['held_out_accuracy']:.4f} on {metadata['held_out_images']} images"
    )
    print(
        "per digit:",
        " ".join(f"{d}:{a:.3f}" for d, a in enumerate(metadata["held_out_per_digit_accuracy"])),
    )
    if arguments.check:
        with tempfile.TemporaryDirectory() as folder:
            digest = save_classifier(model, Path(folder) / arguments.out.name, metadata)
        shipped = read_checksum(arguments.out)["sha256"]
        print(f"regenerated sha256 {digest}\nshipped     sha256 {shipped}")
        return 0 if digest == shipped else 1
    digest = save_classifier(model, arguments.out, metadata)
    size = arguments.out.stat().st_size
    print(f"wrote {arguments.out} ({size / 1024:.0f} KiB, sha256 {digest})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
