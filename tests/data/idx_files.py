"""Writing IDX files in tests (MNIST's and Fashion-MNIST's format), plain or gzipped."""

from __future__ import annotations

import gzip
from pathlib import Path

import torch

STEMS = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}


def idx_bytes(values: torch.Tensor) -> bytes:
    """IDX encoding of a uint8 tensor: magic 0x0000 08 <ndim>, big-endian sizes, raw bytes."""
    header = bytes([0, 0, 0x08, values.dim()])
    header += b"".join(int(size).to_bytes(4, "big") for size in values.shape)
    return header + values.contiguous().numpy().tobytes()


def write_idx_files(
    folder: Path, splits: dict[str, tuple[torch.Tensor, torch.Tensor]], gzipped: bool = False
) -> Path:
    """Write ``{"train": (images, labels), "test": ...}`` (uint8) as the four IDX files in ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    for split, (images, labels) in splits.items():
        for stem, values in zip(STEMS[split], (images, labels), strict=True):
            data = idx_bytes(values)
            if gzipped:
                (folder / f"{stem}.gz").write_bytes(gzip.compress(data, mtime=0))
            else:
                (folder / stem).write_bytes(data)
    return folder
