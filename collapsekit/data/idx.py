"""IDX files, the format of MNIST and Fashion-MNIST: finding, reading (gzipped or not), checking.

Both datasets ship the same four files (28 x 28 images, labels 0..9)::

    train-images-idx3-ubyte[.gz]  train-labels-idx1-ubyte[.gz]
    t10k-images-idx3-ubyte[.gz]   t10k-labels-idx1-ubyte[.gz]

A folder is searched directly and in torchvision's layouts (``MNIST/raw``,
``FashionMNIST/raw`` below it). Every problem (missing, truncated or corrupt
file, wrong magic number, counts that disagree) is one ``CollapsekitError``
naming the file.

Example:
    >>> splits = load_idx_splits("/usr/share/datasets/fashion-mnist", "stacked-fashion", "")  # doctest: +SKIP
    >>> splits["train"][0].shape  # doctest: +SKIP
    torch.Size([60000, 28, 28])
"""

from __future__ import annotations

import gzip
import hashlib
import zlib
from pathlib import Path

import torch

from collapsekit.errors import CollapsekitError

IDX_SPLITS = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}
IMAGE_SIDE = 28
IDX_UBYTE = 0x08  # IDX type code of unsigned bytes, the only one these files use
TORCHVISION_FOLDERS = ("MNIST/raw", "FashionMNIST/raw")  # where torchvision's downloads put them


def search_folders(root: Path) -> list[Path]:
    """``root`` and the torchvision sub-folders below it, in search order."""
    return [root, *(root / folder for folder in TORCHVISION_FOLDERS)]


def find_idx_file(root: Path, stem: str) -> Path | None:
    """``stem`` or ``stem.gz`` in ``root`` (or a torchvision sub-folder); None if absent."""
    for folder in search_folders(root):
        for name in (stem, f"{stem}.gz"):
            if (folder / name).is_file():
                return folder / name
    return None


def locate_idx_files(root: str | Path, dataset: str, how_to_get: str) -> dict[str, Path]:
    """Paths of the four IDX files under ``root``; one CollapsekitError listing any missing.

    ``how_to_get`` ends the error: where the files come from, for this dataset.
    """
    root = Path(root).expanduser()
    stems = [stem for pair in IDX_SPLITS.values() for stem in pair]
    found = {stem: find_idx_file(root, stem) for stem in stems}
    missing = [stem for stem, path in found.items() if path is None]
    if missing:
        also = ", ".join(str(folder) for folder in search_folders(root)[1:])
        raise CollapsekitError(
            f"{dataset}: missing file(s) {', '.join(missing)} (gzipped or not) in {root} "
            f"(also searched: {also}); {how_to_get}"
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
                "copy the file again from its source"
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
            f"{expected_magic:08x}; is it the right IDX file (and not e.g. an HTML error page)?"
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


def load_idx_splits(root: str, dataset: str, how_to_get: str) -> dict:
    """``{"train": (images, labels), "test": (...), "sha256": digest}`` from the files under ``root``.

    Images are uint8 (N, 28, 28), labels int64 (N,) in 0..9; ``sha256`` is over
    the decompressed contents of all four files.
    """
    paths = locate_idx_files(root, dataset, how_to_get)
    digest = hashlib.sha256()
    splits: dict = {}
    for split, (image_stem, label_stem) in IDX_SPLITS.items():
        image_bytes = read_idx_bytes(paths[image_stem])
        label_bytes = read_idx_bytes(paths[label_stem])
        digest.update(image_bytes)
        digest.update(label_bytes)
        images = parse_idx(image_bytes, paths[image_stem], 3)
        labels = parse_idx(label_bytes, paths[label_stem], 1).to(torch.int64)
        check_split(images, labels, (paths[image_stem], paths[label_stem]), dataset)
        splits[split] = (images, labels)
    splits["sha256"] = digest.hexdigest()
    return splits


def check_split(
    images: torch.Tensor, labels: torch.Tensor, paths: tuple[Path, Path], dataset: str
) -> None:
    """CollapsekitError unless images are (N, 28, 28) with N labels in 0..9."""
    image_path, label_path = paths
    if tuple(images.shape[1:]) != (IMAGE_SIDE, IMAGE_SIDE):
        raise CollapsekitError(
            f"{image_path} holds images of {images.shape[1]}x{images.shape[2]} pixels; "
            f"{dataset} needs {IMAGE_SIDE}x{IMAGE_SIDE}"
        )
    if images.shape[0] != labels.shape[0]:
        raise CollapsekitError(
            f"{image_path} holds {images.shape[0]} images but {label_path} holds {labels.shape[0]} "
            "labels; the two files must come from the same split"
        )
    if labels.numel() and int(labels.max()) > 9:
        raise CollapsekitError(
            f"{label_path} holds label {int(labels.max())}; {dataset} labels are 0..9"
        )
