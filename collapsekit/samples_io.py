"""Samples on disk: ``.npy``, ``.npz`` and ``.pt`` files in, clear errors for anything unreadable.

Example:
    >>> import tempfile, os
    >>> path = os.path.join(tempfile.mkdtemp(), "samples.npz")
    >>> save_samples(path, torch.zeros(3, 2))
    >>> load_samples(path).shape
    torch.Size([3, 2])
"""

from __future__ import annotations

import io
import os
import pickle
import warnings
import zipfile
from pathlib import Path

import numpy as np
import torch

from collapsekit.atomic import atomic_write_bytes
from collapsekit.data.base import plain_tensor
from collapsekit.errors import CollapsekitError

SUFFIXES = (".npy", ".npz", ".pt", ".pth")
DEFAULT_KEY = "samples"  # array name tried first in .npz and .pt dictionaries


def load_samples(path: str | os.PathLike, key: str | None = None) -> torch.Tensor:
    """Read one array of samples (N, ...) from ``path``.

    ``.npz`` files and ``.pt`` dictionaries may hold several arrays: ``key`` picks
    one; without it the only array, or the one named ``samples``, is used.
    """
    path = Path(path).expanduser()
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        raise CollapsekitError(
            f"{str(path)!r} has an unknown format {suffix or '(no suffix)'!r}; save samples as .npy, .npz or .pt"
        )
    if not path.exists():
        raise CollapsekitError(f"samples file {str(path)!r} does not exist")
    if not path.is_file():
        raise CollapsekitError(
            f"{str(path)!r} is not a file; pass the path of a .npy, .npz or .pt file"
        )
    try:
        loaded = _read(path, suffix)
    except (
        OSError,
        ValueError,
        EOFError,
        RuntimeError,
        zipfile.BadZipFile,
        pickle.UnpicklingError,
    ) as error:
        raise CollapsekitError(
            f"cannot read samples from {str(path)!r}: {_first_line(error)}"
        ) from None
    return _pick(loaded, path, key)


def _read(path: Path, suffix: str) -> object:
    if suffix == ".npy":
        return np.load(path, allow_pickle=False)
    if suffix == ".npz":
        with np.load(path, allow_pickle=False) as archive:
            return {name: archive[name] for name in archive.files}
    with warnings.catch_warnings():  # loading a sparse tensor warns that it validates it
        warnings.filterwarnings("ignore", message="Validating sparse tensor invariants")
        return torch.load(path, map_location="cpu", weights_only=True)


def _pick(loaded: object, path: Path, key: str | None) -> torch.Tensor:
    if isinstance(loaded, dict):
        arrays = {
            str(name): value
            for name, value in loaded.items()
            if isinstance(value, (np.ndarray, torch.Tensor))
        }
        if key is not None:
            if key not in arrays:
                raise CollapsekitError(
                    f"{str(path)!r} has no array {key!r}; it holds: {', '.join(arrays) or 'none'}"
                )
            loaded = arrays[key]
        elif len(arrays) == 1:
            loaded = next(iter(arrays.values()))
        elif DEFAULT_KEY in arrays:
            loaded = arrays[DEFAULT_KEY]
        elif not arrays:
            raise CollapsekitError(f"{str(path)!r} holds no array of samples ({_contents(loaded)})")
        else:
            raise CollapsekitError(
                f"{str(path)!r} holds several arrays ({', '.join(arrays) or 'none'}); pick one with --key NAME"
            )
    elif key is not None:
        raise CollapsekitError(f"{str(path)!r} holds a single array; drop --key {key}")
    if isinstance(loaded, np.ndarray):
        if loaded.dtype.kind not in "biuf":
            raise CollapsekitError(
                f"{str(path)!r} holds {loaded.dtype} values; samples must be numbers"
            )
        loaded = torch.from_numpy(np.ascontiguousarray(loaded))
    if not isinstance(loaded, torch.Tensor):
        raise CollapsekitError(
            f"{str(path)!r} holds a {type(loaded).__name__}, not an array of samples"
        )
    loaded = plain_tensor(loaded, f"the samples in {str(path)!r}")
    if loaded.dim() < 2:
        raise CollapsekitError(
            f"{str(path)!r} holds an array of shape {tuple(loaded.shape)}; samples need one row per sample, (N, ...)"
        )
    return loaded


def _contents(loaded: dict) -> str:
    """What a dictionary without arrays holds: ``empty``, or its first names and their types."""
    if not loaded:
        return "it is empty"
    items = [f"{name}: {type(value).__name__}" for name, value in list(loaded.items())[:5]]
    return "it holds " + ", ".join(items) + (", ..." if len(loaded) > 5 else "")


def _first_line(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return text[0] if text else type(error).__name__


def save_samples(path: str | os.PathLike, samples: torch.Tensor, key: str = DEFAULT_KEY) -> None:
    """Write ``samples`` atomically as ``.npy``, ``.npz`` (under ``key``) or ``.pt``, by the suffix."""
    path = Path(path)
    suffix = path.suffix.lower()
    array = samples.detach().cpu()
    buffer = io.BytesIO()
    if suffix == ".npy":
        np.save(buffer, array.numpy(), allow_pickle=False)
    elif suffix == ".npz":
        np.savez(buffer, **{key: array.numpy()})
    elif suffix in (".pt", ".pth"):
        torch.save(array, buffer)
    else:
        raise CollapsekitError(
            f"cannot save samples as {suffix or '(no suffix)'!r}; use .npy, .npz or .pt"
        )
    atomic_write_bytes(path, buffer.getvalue())
