"""Samples from .npy, .npz and .pt files; one clear error for anything unreadable."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
import torch

from collapsekit.atomic import atomic_write_bytes, atomic_write_text
from collapsekit.errors import CollapsekitError
from collapsekit.samples_io import load_samples, save_samples


@pytest.mark.parametrize("suffix", [".npy", ".npz", ".pt"])
def test_round_trip(tmp_path: Path, suffix: str) -> None:
    samples = torch.randn(7, 2, dtype=torch.float64)
    save_samples(tmp_path / f"samples{suffix}", samples)
    loaded = load_samples(tmp_path / f"samples{suffix}")
    assert loaded.dtype == torch.float64 and torch.equal(loaded, samples)


def test_archives_with_several_arrays(tmp_path: Path) -> None:
    buffer = io.BytesIO()
    np.savez(buffer, samples=np.ones((3, 2)), labels=np.zeros((3, 1)))
    atomic_write_bytes(tmp_path / "two.npz", buffer.getvalue())
    assert load_samples(tmp_path / "two.npz").shape == (3, 2)  # "samples" is the default
    assert load_samples(tmp_path / "two.npz", key="labels").shape == (3, 1)
    buffer = io.BytesIO()
    torch.save({"fake": torch.zeros(4, 2), "real": torch.ones(4, 2)}, buffer)
    atomic_write_bytes(tmp_path / "two.pt", buffer.getvalue())
    assert float(load_samples(tmp_path / "two.pt", key="real").sum()) == 8.0
    with pytest.raises(
        CollapsekitError, match="holds several arrays \\(fake, real\\); pick one with --key"
    ):
        load_samples(tmp_path / "two.pt")
    with pytest.raises(CollapsekitError, match="has no array 'x'; it holds: fake, real"):
        load_samples(tmp_path / "two.pt", key="x")


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("samples.csv", "1,2\n", "unknown format '.csv'; save samples as .npy, .npz or .pt"),
        ("broken.npy", "not numpy", "cannot read samples from .*broken.npy"),
        ("broken.pt", "not torch", "cannot read samples from .*broken.pt"),
        ("broken.npz", "not a zip", "cannot read samples from .*broken.npz"),
    ],
)
def test_unreadable_files(tmp_path: Path, name: str, content: str, message: str) -> None:
    atomic_write_text(tmp_path / name, content)
    with pytest.raises(CollapsekitError, match=message):
        load_samples(tmp_path / name)


def test_missing_objects_and_scalars(tmp_path: Path) -> None:
    with pytest.raises(CollapsekitError, match="does not exist"):
        load_samples(tmp_path / "missing.npy")
    with pytest.raises(CollapsekitError, match="is not a file"):
        load_samples(_folder(tmp_path))
    buffer = io.BytesIO()
    np.save(buffer, np.array([{"a": 1}], dtype=object), allow_pickle=True)
    atomic_write_bytes(tmp_path / "objects.npy", buffer.getvalue())
    with pytest.raises(CollapsekitError, match="cannot read samples from .*objects.npy"):
        load_samples(tmp_path / "objects.npy")  # never unpickles
    save_samples(tmp_path / "vector.npy", torch.zeros(5))
    with pytest.raises(CollapsekitError, match=r"shape \(5,\); samples need one row per sample"):
        load_samples(tmp_path / "vector.npy")


def _folder(tmp_path: Path) -> Path:
    folder = tmp_path / "folder.npy"
    folder.mkdir()
    return folder
