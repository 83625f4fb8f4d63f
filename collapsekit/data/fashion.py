"""Stacked Fashion-MNIST: three Fashion-MNIST items stacked as channels, (3, 28, 28), 1000 modes.

The files come from Debian's package ``dataset-fashion-mnist`` (``apt-get install
dataset-fashion-mnist``), which installs the four gzipped IDX files in
``/usr/share/datasets/fashion-mnist``; nothing is downloaded at run time.
``stacked-fashion:root=PATH`` reads them from another folder instead (the
same file names, gzipped or not; see ``collapsekit.data.idx``).

Built exactly as ``stacked-digits`` (``collapsekit.data.digits``): each channel's
class is drawn uniformly from the ten, then an image of that class uniformly,
so the 1000 modes ``100 * c0 + 10 * c1 + c2`` have weight 1/1000 each. Modes and
quality come from the shipped per-channel classifier
(``collapsekit/classifier/weights/stacked-fashion-28x28.pt``), trained on the 60,000
training images with an eleventh class, "not an item": a channel whose softmax
probability of its predicted item is below ``min_confidence`` makes the sample
low quality. Real samples come from the training images by default
(``split=test``: the 10,000 test images the classifier never saw).
"""

from __future__ import annotations

import functools
from pathlib import Path

from collapsekit.classifier import load_fashion_classifier
from collapsekit.data.digits import StackedDigits
from collapsekit.data.idx import IDX_SPLITS, load_idx_splits
from collapsekit.errors import CollapsekitError

FASHION_MNIST_FOLDER = Path("/usr/share/datasets/fashion-mnist")  # Debian's dataset-fashion-mnist
FASHION_CLASSES = (
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
)
HOW_TO_GET_FASHION = (
    "install them with `apt-get install dataset-fashion-mnist` (Debian's package puts them in "
    f"{FASHION_MNIST_FOLDER}) or pass --data stacked-fashion:root=PATH for a folder holding "
    "Fashion-MNIST's four IDX files; nothing is downloaded"
)


@functools.lru_cache(maxsize=2)
def load_fashion_mnist(root: str = "") -> dict:
    """Fashion-MNIST from ``root`` (default: Debian's folder): ``{"train": (images, labels), "test": ..., "sha256": ...}``.

    Images are uint8 (N, 28, 28), labels int64 (N,) in 0..9 (``FASHION_CLASSES``).

    Example:
        >>> images, labels = load_fashion_mnist()["test"]  # doctest: +SKIP
        >>> images.shape  # doctest: +SKIP
        torch.Size([10000, 28, 28])
    """
    folder = Path(root).expanduser().resolve() if root else FASHION_MNIST_FOLDER
    return load_idx_splits(str(folder), "stacked-fashion", HOW_TO_GET_FASHION)


def fashion_available(root: str = "") -> bool:
    """Whether the four Fashion-MNIST files are readable under ``root`` (default: Debian's folder)."""
    try:
        load_fashion_mnist(root)
    except CollapsekitError:
        return False
    return True


def stacked_fashion(
    root: str = "", split: str = "train", min_confidence: float = 0.5
) -> StackedDigits:
    """The ``stacked-fashion`` dataset: (3, 28, 28) images of Fashion-MNIST items, 1000 modes.

    ``root``: folder of the IDX files; empty means Debian's ``/usr/share/datasets/fashion-mnist``.

    Example:
        >>> data = stacked_fashion()  # doctest: +SKIP
        >>> data.sample(2, torch.Generator().manual_seed(0)).shape  # doctest: +SKIP
        torch.Size([2, 3, 28, 28])
    """
    if split not in IDX_SPLITS:
        raise CollapsekitError(f"split must be train or test, got {split!r}")
    root = str(Path(root).expanduser().resolve()) if root else ""
    images, labels = load_fashion_mnist(root)[split]
    location = f"root={root}," if root else ""
    return StackedDigits(
        "stacked-fashion",
        images,
        labels,
        pixel_max=255.0,
        classifier=load_fashion_classifier,
        min_confidence=min_confidence,
        spec=f"stacked-fashion:{location}split={split},min_confidence={min_confidence:g}",
    )
