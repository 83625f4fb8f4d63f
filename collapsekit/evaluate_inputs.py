"""The inputs of ``collapsekit.evaluate``: generated and real samples, checked and drawn.

Generated samples are checked against the dataset (or against each other's shape
when there is none); a baseline draws real samples in their place, refused before
allocating when it would not fit in memory; real samples are given or drawn fresh.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from collapsekit.data import Dataset
from collapsekit.data.base import check_samples, plain_tensor
from collapsekit.errors import CollapsekitError
from collapsekit.limits import FLOAT32_BYTES
from collapsekit.memory import check_fits_in_memory


def as_tensor(values: object, what: str) -> torch.Tensor:
    """``values`` (a tensor or numpy array) as a plain tensor, or CollapsekitError naming ``what``."""
    if isinstance(values, np.ndarray):
        values = torch.from_numpy(np.ascontiguousarray(values))
    if not isinstance(values, torch.Tensor):
        raise CollapsekitError(
            f"{what} must be a tensor or numpy array, got {type(values).__name__}"
        )
    return plain_tensor(values, what)


def validated(
    values: object, what: str, data: Dataset | None, like: torch.Tensor | None = None
) -> torch.Tensor:
    """``values`` checked as samples (N, ...) of ``data`` or of the shape of ``like``."""
    values = as_tensor(values, what)
    if values.dim() < 2:
        raise CollapsekitError(
            f"{what} have shape {tuple(values.shape)}; pass one sample per row, (N, ...), e.g. (N, 2) for 2-D points"
        )
    if data is not None:
        return data.validate_samples(values, what)
    shape = tuple(like.shape[1:]) if like is not None else tuple(values.shape[1:])
    if like is not None and tuple(values.shape[1:]) != shape:
        raise CollapsekitError(
            f"{what} have samples of shape {tuple(values.shape[1:])} but generated samples have {shape}; "
            "both must come from the same space"
        )
    return check_samples(values, shape, what=what, dataset="the generated samples")


def generated_samples(
    samples: object,
    data: Dataset | None,
    real: object,
    baseline: bool,
    count: int | None,
    seed: int,
) -> torch.Tensor:
    """The samples to score: ``samples`` checked, or, for a baseline, fresh real ones."""
    if not baseline:
        if count is not None:
            raise CollapsekitError(
                "num_samples sets the size of a baseline; pass baseline=True or drop it"
            )
        if samples is None:
            raise CollapsekitError(
                "no samples to evaluate; pass samples, or baseline=True to score real vs real"
            )
        return validated(samples, "samples", data)
    if samples is not None:
        raise CollapsekitError("pass either samples or baseline=True (real vs real), not both")
    if data is None:
        raise CollapsekitError(
            "baseline=True needs a dataset to draw real samples from; pass dataset="
        )
    if count is None:
        count = (
            int(as_tensor(real, "real samples").shape[0]) if real is not None else data.eval_samples
        )
    check_fits_in_memory(
        2 * count * math.prod(data.sample_shape) * FLOAT32_BYTES,
        f"num_samples={count:,} (a baseline and as many real samples)",
        "ask for fewer",
    )
    return data.sample(count, generator=torch.Generator().manual_seed(seed + 1))


def real_samples(
    real: object, data: Dataset | None, generated: torch.Tensor, seed: int
) -> torch.Tensor:
    """The real samples to compare with: ``real`` checked, or as many fresh ones as generated."""
    if real is not None:
        return validated(real, "real samples", data, like=generated)
    if data is None:
        raise CollapsekitError(
            "nothing to compare with; pass dataset= (fresh real samples) or real="
        )
    return data.sample(generated.shape[0], generator=torch.Generator().manual_seed(seed))
