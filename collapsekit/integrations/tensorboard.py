"""TensorBoard: every history row as scalars, and the samples as an image, at each evaluation.

``log_to(writer)`` returns an ``on_metrics`` callback for the Monitor. It takes
any writer with ``add_scalar`` and ``add_image`` (``torch.utils.tensorboard``'s
``SummaryWriter``, or tensorboardX's), so this module imports no framework.

Example:
    >>> from torch.utils.tensorboard import SummaryWriter  # doctest: +SKIP
    >>> writer = SummaryWriter("tb/my-gan")  # doctest: +SKIP
    >>> monitor = collapsekit.Monitor("ring8", on_metrics=log_to(writer))  # doctest: +SKIP
"""

from __future__ import annotations

import io
import math
from collections.abc import Callable

import numpy as np
import torch

from collapsekit.data import Dataset
from collapsekit.metrics import keys

PREFIX = "collapsekit/"
MAX_POINTS = 2500  # points drawn in a 2-D sample plot
GRID_IMAGES = 64  # images tiled for image data


def log_to(
    writer: object, prefix: str = PREFIX, dataset: Dataset | None = None, images: bool = True
) -> Callable[..., None]:
    """An ``on_metrics`` callback writing each row as ``prefix + key`` scalars at its step.

    The callback takes ``samples=``, so the Monitor also hands it each evaluation's samples.

    Args:
        writer: a ``SummaryWriter`` (anything with ``add_scalar``, ``add_image``, ``flush``).
        prefix: tag prefix of every scalar and image.
        dataset: draws its mode centres under 2-D samples (e.g. ``monitor.dataset``).
        images: also write the evaluation's samples as an image (``prefix + "samples"``):
            a scatter plot for 2-D points, a grid for images (N, C, H, W).
    """

    def on_metrics(row: dict, samples: np.ndarray | None = None) -> None:
        step = int(row[keys.STEP])
        for key, value in row.items():
            if key != keys.STEP and _is_number(value):
                writer.add_scalar(prefix + key, float(value), step)
        image = sample_image(samples, dataset) if images and samples is not None else None
        if image is not None:
            writer.add_image(prefix + "samples", image, step, dataformats="HWC")
        writer.flush()

    return on_metrics


def sample_image(samples: np.ndarray, dataset: Dataset | None = None) -> np.ndarray | None:
    """An RGB uint8 image (H, W, 3) of ``samples``: 2-D points drawn, images tiled; else None.

    Example:
        >>> sample_image(np.zeros((10, 2), dtype=np.float32)).shape[2]
        3
    """
    samples = np.asarray(samples)
    if samples.ndim == 2 and samples.shape[1] == 2:
        return _scatter(samples[:MAX_POINTS], getattr(dataset, "centres", None))
    if samples.ndim == 4 and samples.shape[1] in (1, 3):
        return _grid(samples[:GRID_IMAGES])
    return None


def _scatter(points: np.ndarray, centres: torch.Tensor | None) -> np.ndarray:
    import matplotlib

    matplotlib.use("Agg", force=False)
    from matplotlib.figure import Figure

    figure = Figure(figsize=(4, 4), dpi=80)
    ax = figure.subplots()
    finite = points[np.isfinite(points).all(axis=1)]
    ax.scatter(finite[:, 0], finite[:, 1], s=2, alpha=0.4, color="#2471a3")
    if centres is not None:
        ax.scatter(centres[:, 0], centres[:, 1], marker="+", s=40, color="black")
    ax.set_aspect("equal", adjustable="datalim")
    buffer = io.BytesIO()
    figure.savefig(buffer, format="rgba", dpi=80)
    width, height = (int(v) for v in figure.canvas.get_width_height())
    return np.frombuffer(buffer.getvalue(), dtype=np.uint8).reshape(height, width, 4)[..., :3]


def _grid(images: np.ndarray) -> np.ndarray:
    """Images (n, C, S, S) in [-1, 1] tiled 8 per row as uint8 (H, W, 3)."""
    import torchvision

    tensor = torch.as_tensor(images, dtype=torch.float32).clamp(-1, 1)
    if tensor.shape[1] == 1:
        tensor = tensor.expand(-1, 3, -1, -1)
    grid = torchvision.utils.make_grid((tensor + 1) / 2, nrow=8, padding=1)  # (3, H, W)
    return (grid.permute(1, 2, 0).numpy() * 255).round().astype(np.uint8)


def _is_number(value: object) -> bool:
    return (
        isinstance(value, (int, float, np.integer, np.floating))
        and not isinstance(value, bool)
        and not (isinstance(value, float) and math.isnan(value))
    )
