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
import gzip
import hashlib
import json
import logging
import zlib
from pathlib import Path

import torch

from collapsekit.classifier import (
    ModeClassifier,
    TrainingConfig,
    architecture_for,
    cached_classifier,
    per_digit_accuracy,
    train_classifier,
)
from collapsekit.classifier.mode import best_device
from collapsekit.data.digits import StackedDigits, to_unit_range
from collapsekit.errors import CollapsekitError

logger = logging.getLogger(__name__)

MNIST_FILES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}
MNIST_SIDE = 28
IDX_UBYTE = 0x08  # IDX type code of unsigned bytes, the only one MNIST uses
DEFAULT_CLASSIFIER_STEPS = 3000  # about 6 epochs of MNIST at batch 128


def find_idx_file(root: Path, stem: str) -> Path | None:
    """``root/stem`` or ``root/stem.gz`` (also under ``root/MNIST/raw``); None if absent."""
    for folder in (root, root / "MNIST" / "raw"):
        for name in (stem, f"{stem}.gz"):
            if (folder / name).is_file():
                return folder / name
    return None


def locate_mnist_files(root: str | Path) -> dict[str, Path]:
    """Paths of the four MNIST files under ``root``; CollapsekitError listing any that are missing."""
    root = Path(root).expanduser()
    stems = [stem for pair in MNIST_FILES.values() for stem in pair]
    found = {stem: find_idx_file(root, stem) for stem in stems}
    missing = [stem for stem, path in found.items() if path is None]
    if missing:
        raise CollapsekitError(
            f"stacked-mnist: missing MNIST file(s) {', '.join(missing)} (gzipped or not) in {root}; "
            f"put the standard IDX files there (also searched: {root / 'MNIST' / 'raw'}) "
            "or pass root=PATH pointing at the folder that holds them; nothing is downloaded"
        )
    return found  # type: ignore[return-value]


def read_idx_bytes(path: Path) -> bytes:
    """The decompressed bytes of an IDX file (gzip recognised by its magic bytes)."""
    try:
        data = path.read_bytes()
    except OSError as error:
        raise CollapsekitError(f"cannot read IDX file {path}: {error.strerror}") from None
    if data[:2] == b"\x1f\x8b":
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError, zlib.error) as error:
            raise CollapsekitError(
                f"IDX file {path} is a truncated or corrupt gzip archive ({error}); "
                "copy the file again from your MNIST source"
            ) from None
    return data


def parse_idx(data: bytes, path: Path, dimensions: int) -> torch.Tensor:
    """Parse IDX bytes of unsigned bytes with ``dimensions`` axes into a uint8 tensor.

    Example:
        >>> header = bytes([0, 0, 8, 1]) + (3).to_bytes(4, "big")
        >>> parse_idx(header + bytes([7, 8, 9]), Path("labels"), 1)
        tensor([7, 8, 9], dtype=torch.uint8)
    """
    expected_magic = (IDX_UBYTE << 8) | dimensions
    kind = "images" if dimensions == 3 else "labels"
    if len(data) < 4 or int.from_bytes(data[:4], "big") != expected_magic:
        found = data[:4].hex() if data else "an empty file"
        raise CollapsekitError(
            f"{path} has magic number {found}, but an IDX {kind} file starts with "
            f"{expected_magic:08x}; is it the right MNIST file (and not e.g. an HTML error page)?"
        )
    header = 4 + 4 * dimensions
    if len(data) < header:
        raise CollapsekitError(f"IDX file {path} is truncated inside its header; copy it again")
    shape = [int.from_bytes(data[4 + 4 * i : 8 + 4 * i], "big") for i in range(dimensions)]
    size = 1
    for extent in shape:
        size *= extent
    if len(data) - header < size:
        raise CollapsekitError(
            f"IDX file {path} is truncated: its header promises {size} bytes of {kind} "
            f"({' x '.join(map(str, shape))}) but it holds {len(data) - header}; copy it again"
        )
    values = torch.frombuffer(bytearray(data[header : header + size]), dtype=torch.uint8)
    return values.reshape(shape)


@functools.lru_cache(maxsize=2)
def load_mnist(root: str) -> dict[str, tuple[torch.Tensor, torch.Tensor]]:
    """MNIST from ``root``: ``{"train": (images, labels), "test": (...)}``, plus ``"sha256"`` of the contents.

    Images are uint8 (N, 28, 28), labels int64 (N,).
    """
    paths = locate_mnist_files(root)
    digest = hashlib.sha256()
    splits: dict = {}
    for split, (image_stem, label_stem) in MNIST_FILES.items():
        image_bytes, label_bytes = (
            read_idx_bytes(paths[image_stem]),
            read_idx_bytes(paths[label_stem]),
        )
        digest.update(image_bytes)
        digest.update(label_bytes)
        images = parse_idx(image_bytes, paths[image_stem], 3)
        labels = parse_idx(label_bytes, paths[label_stem], 1).to(torch.int64)
        _check_split(images, labels, paths[image_stem], paths[label_stem])
        splits[split] = (images, labels)
    splits["sha256"] = digest.hexdigest()
    return splits


def _check_split(
    images: torch.Tensor, labels: torch.Tensor, image_path: Path, label_path: Path
) -> None:
    if tuple(images.shape[1:]) != (MNIST_SIDE, MNIST_SIDE):
        raise CollapsekitError(
            f"{image_path} holds images of {images.shape[1]}x{images.shape[2]} pixels; "
            f"stacked-mnist needs MNIST's {MNIST_SIDE}x{MNIST_SIDE}"
        )
    if images.shape[0] != labels.shape[0]:
        raise CollapsekitError(
            f"{image_path} holds {images.shape[0]} images but {label_path} holds {labels.shape[0]} "
            "labels; the two files must come from the same MNIST split"
        )
    if labels.numel() and int(labels.max()) > 9:
        raise CollapsekitError(
            f"{label_path} holds label {int(labels.max())}; MNIST labels are 0..9"
        )


def mnist_classifier(root: str, steps: int = DEFAULT_CLASSIFIER_STEPS) -> ModeClassifier:
    """The stacked-mnist mode classifier for the files under ``root``: cached, or trained now."""
    mnist = load_mnist(root)
    config = TrainingConfig(steps=steps, batch_size=128, max_shift=2, noise_std=0.05, seed=0)
    architecture = architecture_for(MNIST_SIDE)
    settings = json.dumps([config.to_dict(), architecture.to_dict()], sort_keys=True)
    key = hashlib.sha256((mnist["sha256"] + settings).encode()).hexdigest()[:20]

    def train() -> tuple[torch.nn.Module, dict]:
        train_images, train_labels = mnist["train"]
        test_images, test_labels = mnist["test"]
        model = train_classifier(
            to_unit_range(train_images, 255.0), train_labels, architecture, config, best_device()
        )
        per_digit = per_digit_accuracy(model, to_unit_range(test_images, 255.0), test_labels)
        counts = torch.bincount(test_labels, minlength=10).to(torch.float64)
        accuracy = float((per_digit.nan_to_num(0.0) * counts).sum() / counts.sum().clamp(min=1))
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
    if split not in MNIST_FILES:
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
