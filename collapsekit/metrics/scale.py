"""Samples on the wrong scale: the one-line warning behind "0 of 8 modes".

Samples drawn on another scale than the mixture (a script that divides its data
by 1.414, say) miss every mode, and the mode metrics alone read as a total
collapse. When almost no sample is high quality, the samples are moved onto the
mixture's centre and spread (mean and root-mean-square distance to it); if most
of them then lie near a mode, the samples had the modes' shape on another scale.

Example:
    >>> from collapsekit.data import get_dataset
    >>> ring = get_dataset("ring8")
    >>> samples = ring.sample(2000, torch.Generator().manual_seed(0)) / 1.414
    >>> scale_mismatch(samples, ring)
    'samples span 1.41x less than the modes: a different scale? (rescaled, 94% of them would lie near a mode; 0% do)'
"""

from __future__ import annotations

import math

import torch

from collapsekit.data.base import Dataset

ALMOST_NONE = 0.05  # high-quality share below which the scale is questioned
RESCALED_ENOUGH = 0.5  # share that must lie near a mode once rescaled
SAME_SCALE = 1.05  # spread ratios within this factor count as the same scale
SAME_CENTRE = 0.05  # centre offsets below this share of the modes' spread count as none


def mixture_centre_and_spread(dataset: Dataset) -> tuple[torch.Tensor, float] | None:
    """Mean (D,) and RMS distance to it of a mixture's distribution; None if it has no centres."""
    centres = getattr(dataset, "centres", None)
    std = getattr(dataset, "std", None)
    if centres is None or std is None:
        return None
    weights = dataset.mode_weights.to(torch.float64)  # (K,)
    mean = (weights[:, None] * centres).sum(dim=0)  # (D,)
    between = (weights * ((centres - mean) ** 2).sum(dim=1)).sum()
    return mean, math.sqrt(float(between) + centres.shape[1] * std**2)


def scale_mismatch(samples: torch.Tensor, dataset: Dataset) -> str | None:
    """One line when almost no sample is high quality but rescaled ones would be; else None.

    Only for mixtures (datasets with ``centres`` and ``std``) and finite samples (N, D).
    """
    reference = mixture_centre_and_spread(dataset)
    if reference is None or samples.dim() != 2 or samples.shape[0] < 2:
        return None
    samples = samples.to(torch.float64)
    quality = float(dataset.assign(samples)[1].double().mean())
    mean = samples.mean(dim=0)
    spread = float(((samples - mean) ** 2).sum(dim=1).mean().sqrt())
    if quality >= ALMOST_NONE or spread == 0 or not math.isfinite(spread):
        return None
    centre, mode_spread = reference
    rescaled = (samples - mean) * (mode_spread / spread) + centre
    rescaled_quality = float(dataset.assign(rescaled)[1].double().mean())
    if rescaled_quality < max(RESCALED_ENOUGH, 10 * quality):
        return None
    offset = float((mean - centre).norm())
    return _describe(spread / mode_spread, offset, mode_spread, quality, rescaled_quality)


def _describe(
    ratio: float, offset: float, mode_spread: float, quality: float, rescaled: float
) -> str:
    parts = []
    if ratio < 1 / SAME_SCALE:
        parts.append(f"samples span {1 / ratio:.2f}x less than the modes")
    elif ratio > SAME_SCALE:
        parts.append(f"samples span {ratio:.2f}x more than the modes")
    if offset > SAME_CENTRE * mode_spread:
        parts.append(f"{'they' if parts else 'samples'} are centred {offset:.3g} away from them")
    question = (
        "a different scale?"
        if ratio < 1 / SAME_SCALE or ratio > SAME_SCALE
        else "a different offset?"
    )
    return (
        f"{' and '.join(parts) or 'samples sit off the modes'}: {question} "
        f"(rescaled, {rescaled:.0%} of them would lie near a mode; {quality:.0%} do)"
    )
