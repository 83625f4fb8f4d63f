"""Checks on feature tensors shared by the feature metrics: one clear error per problem."""

from __future__ import annotations

import numpy as np
import torch

from collapsekit.errors import CollapsekitError


def check_features(features: object, what: str = "features", min_rows: int = 1) -> torch.Tensor:
    """Return ``features`` as a finite (N, D) floating tensor with at least ``min_rows`` rows.

    Example:
        >>> check_features(np.zeros((4, 2)), min_rows=4).shape
        torch.Size([4, 2])
    """
    if isinstance(features, np.ndarray):
        features = torch.from_numpy(features)
    if not isinstance(features, torch.Tensor):
        raise CollapsekitError(
            f"{what} must be a tensor or numpy array, got {type(features).__name__}"
        )
    if features.dim() != 2:
        raise CollapsekitError(
            f"{what} must be 2-dimensional (samples, features), got shape {tuple(features.shape)}; "
            "flatten each sample to one row"
        )
    if not (
        features.is_floating_point() or features.dtype in (torch.int32, torch.int64, torch.uint8)
    ):
        raise CollapsekitError(f"{what} must hold numbers, got dtype {features.dtype}")
    if not features.is_floating_point():
        features = features.to(torch.float32)
    if features.shape[0] < min_rows:
        raise CollapsekitError(
            f"{what} have {features.shape[0]} samples, but at least {min_rows} are needed; pass more samples"
        )
    if features.shape[1] == 0:
        raise CollapsekitError(f"{what} have no feature columns (shape {tuple(features.shape)})")
    finite = torch.isfinite(features)
    if not bool(finite.all()):
        bad = int((~finite).any(1).sum())
        raise CollapsekitError(
            f"{what} contain NaN or inf in {bad} of {features.shape[0]} rows; "
            "the generator has probably diverged: check its losses and learning rates"
        )
    return features


def check_feature_pair(
    real: object, fake: object, min_rows: int = 1
) -> tuple[torch.Tensor, torch.Tensor]:
    """Check real and generated features together: both valid, same width."""
    real = check_features(real, "real features", min_rows)
    fake = check_features(fake, "generated features", min_rows)
    if real.shape[1] != fake.shape[1]:
        raise CollapsekitError(
            f"real features have {real.shape[1]} columns but generated features have {fake.shape[1]}; "
            "compute both with the same feature extractor"
        )
    return real, fake


def neighbours_needed(k: int) -> int:
    """Samples a k-nearest-neighbour metric needs: the point itself plus k others."""
    if not isinstance(k, int) or isinstance(k, bool) or k < 1:
        raise CollapsekitError(f"k must be a positive integer, got {k!r}")
    return k + 1
