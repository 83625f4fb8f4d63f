"""Benchmark datasets with known modes, registered by name.

All built-ins are registered here, in one place.
"""

from __future__ import annotations

from collapsekit.data.base import Dataset, check_samples
from collapsekit.data.digits import StackedDigits, stacked_digits
from collapsekit.data.fashion import stacked_fashion
from collapsekit.data.mixtures import GaussianMixture, grid, ring
from collapsekit.data.mnist import stacked_mnist
from collapsekit.data.registry import get_dataset, list_datasets, parse_spec, register_dataset
from collapsekit.data.stored import dataset_from_config, dataset_record, load_dataset_file


def _ring8(modes: int = 8, radius: float = 2.0, std: float = 0.02) -> GaussianMixture:
    return ring(modes=modes, radius=radius, std=std, name="ring8")


def _grid25(side: int = 5, spacing: float = 2.0, std: float = 0.05) -> GaussianMixture:
    return grid(side=side, spacing=spacing, std=std, name="grid25")


register_dataset("ring8", _ring8, "8 Gaussians on a circle of radius 2, std 0.02 (2-D)")
register_dataset("grid25", _grid25, "25 Gaussians on the grid {-4,-2,0,2,4}^2, std 0.05 (2-D)")
register_dataset(
    "stacked-digits", stacked_digits, "3 sklearn 8x8 digits stacked as channels: 1000 modes (3x8x8)"
)
register_dataset(
    "stacked-mnist",
    stacked_mnist,
    "3 MNIST digits from local files (root=PATH): 1000 modes (3x28x28)",
)
register_dataset(
    "stacked-fashion",
    stacked_fashion,
    "3 Fashion-MNIST items (Debian's dataset-fashion-mnist or root=PATH): 1000 modes (3x28x28)",
)

__all__ = [
    "Dataset",
    "GaussianMixture",
    "StackedDigits",
    "check_samples",
    "dataset_from_config",
    "dataset_record",
    "get_dataset",
    "grid",
    "list_datasets",
    "load_dataset_file",
    "parse_spec",
    "register_dataset",
    "ring",
    "stacked_digits",
    "stacked_fashion",
    "stacked_mnist",
]
