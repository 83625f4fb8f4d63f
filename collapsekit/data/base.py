"""The dataset contract: a benchmark that knows its modes.

A dataset samples real data with a seeded generator, knows its mode centres and
weights, and assigns any sample to a mode with a quality flag. Everything else in
collapsekit (metrics, monitor, report) talks to datasets only through this class.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod

import torch

from collapsekit.errors import CollapsekitError
from collapsekit.limits import check_samples_fit

FLOAT32_MAX = float(torch.finfo(torch.float32).max)


class Dataset(ABC):
    """A benchmark distribution with known modes.

    Subclasses set ``name``, ``sample_shape``, ``mode_weights`` and implement
    ``sample`` and ``assign``.

    Example:
        >>> from collapsekit.data import get_dataset
        >>> ring = get_dataset("ring8")
        >>> x = ring.sample(4, generator=torch.Generator().manual_seed(0))
        >>> mode, high_quality = ring.assign(x)
    """

    name: str = "dataset"
    #: shape of one sample, e.g. ``(2,)`` for points in the plane
    sample_shape: tuple[int, ...] = ()
    #: evaluation protocol: samples drawn per evaluation (2,500 for ring and grid, as the papers)
    eval_samples: int = 2500
    #: feature extractor that fits this data (see ``collapsekit.features``)
    feature_space: str = "identity"

    @property
    @abstractmethod
    def mode_weights(self) -> torch.Tensor:
        """True probability of each mode, shape (K,), float64, sums to 1."""

    @property
    def modes_total(self) -> int:
        return int(self.mode_weights.numel())

    @property
    def spec(self) -> str:
        """Canonical string that rebuilds this dataset with ``get_dataset``."""
        return self.name

    @abstractmethod
    def sample(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """Draw ``n`` real samples, shape (n, *sample_shape), float32 on the CPU."""

    @abstractmethod
    def assign(self, samples: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Map samples to modes.

        Returns ``(mode_index, is_high_quality)``: int64 (N,) index of the nearest
        mode and bool (N,) whether the sample is close enough to count for it.
        """

    def validate_samples(self, samples: torch.Tensor, what: str = "samples") -> torch.Tensor:
        """Check shape and finiteness; return the samples as a float tensor on the CPU."""
        return check_samples(samples, self.sample_shape, what=what, dataset=self.name)


def check_samples(
    samples: object,
    sample_shape: tuple[int, ...],
    what: str = "samples",
    dataset: str = "dataset",
) -> torch.Tensor:
    """Validate a batch of samples against ``sample_shape``; raise CollapsekitError if bad."""
    if not isinstance(samples, torch.Tensor):
        try:
            samples = torch.as_tensor(samples)
        except (TypeError, ValueError, RuntimeError) as error:
            raise CollapsekitError(
                f"{what} must be a tensor or array, got {type(samples).__name__}: {error}"
            ) from None
    samples = plain_tensor(samples, what)
    if not (samples.is_floating_point() or samples.dtype in (torch.int32, torch.int64)):
        raise CollapsekitError(
            f"{what} must hold numbers (float), got dtype {samples.dtype}; convert with .float()"
        )
    expected = tuple(sample_shape)
    if samples.dim() != len(expected) + 1 or tuple(samples.shape[1:]) != expected:
        raise CollapsekitError(
            f"{what} have shape {tuple(samples.shape)}, but {dataset} expects "
            f"(N, {', '.join(str(s) for s in expected)}); reshape them to one sample per row"
        )
    if samples.shape[0] == 0:
        raise CollapsekitError(f"{what} are empty; pass at least one sample")
    samples = samples.detach()
    _check_float32_range(samples, what)
    samples = samples.to("cpu", torch.float32)
    if not torch.isfinite(samples).all():
        bad = int((~torch.isfinite(samples)).flatten(1).any(1).sum())
        cause = (
            "check the file or code they came from"
            if what.startswith("real")
            else "the generator has probably diverged: check its losses and learning rates"
        )
        raise CollapsekitError(
            f"{what} contain NaN or inf in {bad} of {samples.shape[0]} rows; {cause}"
        )
    return samples


def plain_tensor(values: torch.Tensor, what: str = "samples") -> torch.Tensor:
    """``values`` as an ordinary (strided) tensor: sparse ones made dense, meta ones refused.

    Example:
        >>> plain_tensor(torch.eye(2).to_sparse()).layout
        torch.strided
    """
    if values.is_meta:
        raise CollapsekitError(f"{what} are a meta tensor, which holds no values; pass real data")
    if values.layout == torch.strided:
        return values
    check_samples_fit(
        values.shape[0] if values.dim() else 1,
        math.prod(values.shape[1:]),
        f"{what} made dense",
        "pass fewer samples",
    )
    try:
        return values.to_dense()
    except (RuntimeError, NotImplementedError) as error:
        raise CollapsekitError(
            f"{what} are a {values.layout} tensor that cannot be made dense ({error}); "
            "pass a dense tensor or array"
        ) from None


def _check_float32_range(samples: torch.Tensor, what: str) -> None:
    """Samples are scored in float32: larger finite values would silently become inf."""
    if samples.dtype != torch.float64:
        return
    finite = samples[torch.isfinite(samples)]
    largest = float(finite.abs().max()) if finite.numel() else 0.0
    if largest > FLOAT32_MAX:
        raise CollapsekitError(
            f"{what} hold values up to {largest:.3g}, beyond float32's range "
            f"(+-{FLOAT32_MAX:.3g}) that collapsekit computes in; rescale them"
        )
