"""The discriminator map of a run: sigmoid(D) on a grid over 2-D data, in ``d_map.npz``.

Written at a run's final evaluation (``x`` (W,), ``y`` (H,), ``values`` (H, W)),
read by the report for its discriminator panels. Optional: runs on other data
have none.

Example:
    >>> x = y = np.linspace(-3, 3, 200)
    >>> write_d_map("runs/demo", x, y, np.full((200, 200), 0.5))  # doctest: +SKIP
    >>> read_d_map("runs/demo")["values"].shape  # doctest: +SKIP
    (200, 200)
"""

from __future__ import annotations

import io
import os
import zipfile
from pathlib import Path

import numpy as np

from collapsekit.atomic import atomic_write_bytes
from collapsekit.errors import RunFolderError

D_MAP = "d_map.npz"  # optional: sigmoid(D) on a grid over 2-D data, written at the final evaluation


def write_d_map(
    run_dir: str | os.PathLike, x: np.ndarray, y: np.ndarray, values: np.ndarray
) -> None:
    """Store the discriminator's output sigmoid(D) on a grid: ``values[i, j]`` at ``(x[j], y[i])``.

    Args:
        x: (W,) increasing grid coordinates along the first data axis.
        y: (H,) increasing grid coordinates along the second data axis.
        values: (H, W) sigmoid(D) in [0, 1] (NaN allowed where D diverged).

    Example:
        >>> x = y = np.linspace(-3, 3, 200)
        >>> write_d_map("runs/demo", x, y, np.full((200, 200), 0.5))  # doctest: +SKIP
    """
    x, y = _grid_axis(x, "x"), _grid_axis(y, "y")
    values = np.asarray(values, dtype=np.float32)
    if values.shape != (y.size, x.size):
        raise RunFolderError(
            f"d_map values must have shape (len(y), len(x)) = ({y.size}, {x.size}), got {values.shape}"
        )
    finite = values[np.isfinite(values)]
    if finite.size and (finite.min() < 0 or finite.max() > 1):
        raise RunFolderError("d_map values must lie in [0, 1]; pass sigmoid(D), not logits")
    buffer = io.BytesIO()
    np.savez_compressed(buffer, x=x, y=y, values=values)
    atomic_write_bytes(Path(run_dir) / D_MAP, buffer.getvalue())


def read_d_map(run_dir: str | os.PathLike) -> dict[str, np.ndarray] | None:
    """The stored discriminator map (``x``, ``y``, ``values``), or None when the run has none."""
    path = Path(run_dir) / D_MAP
    if not path.exists():
        return None
    try:
        with np.load(path, allow_pickle=False) as archive:
            grid = {name: archive[name] for name in ("x", "y", "values")}
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as error:
        raise RunFolderError(f"{path} is corrupt ({error})") from None
    try:
        grid["x"], grid["y"] = _grid_axis(grid["x"], "x"), _grid_axis(grid["y"], "y")
    except RunFolderError as error:
        raise RunFolderError(f"{path} is corrupt: {error}") from None
    if grid["values"].shape != (grid["y"].size, grid["x"].size):
        raise RunFolderError(f"{path} is corrupt: values do not match the grid")
    return grid


def _grid_axis(axis: np.ndarray, name: str) -> np.ndarray:
    axis = np.asarray(axis, dtype=np.float64)
    if axis.ndim != 1 or axis.size < 2 or not np.isfinite(axis).all() or (np.diff(axis) <= 0).any():
        raise RunFolderError(
            f"d_map {name} must be at least 2 finite, strictly increasing coordinates, got shape {axis.shape}"
        )
    return axis
