"""Gaussian mixtures with known modes: ring8, grid25 and their relatives."""

from __future__ import annotations

import math

import torch

from collapsekit.data.base import Dataset
from collapsekit.errors import CollapsekitError


class GaussianMixture(Dataset):
    """Isotropic Gaussian mixture in D dimensions.

    A sample is high quality when its L2 distance to the nearest centre is at
    most ``quality_stds * std`` (3 std, as VEEGAN and PacGAN count).

    Example:
        >>> centres = torch.tensor([[0.0, 0.0], [1.0, 1.0]])
        >>> mixture = GaussianMixture("two", centres, std=0.05)
        >>> mixture.modes_total
        2
    """

    def __init__(
        self,
        name: str,
        centres: torch.Tensor,
        std: float,
        weights: torch.Tensor | None = None,
        quality_stds: float = 3.0,
        spec: str | None = None,
    ) -> None:
        if centres.dim() != 2:
            raise CollapsekitError(f"centres must be (K, D), got shape {tuple(centres.shape)}")
        if not std > 0:
            raise CollapsekitError(f"std must be positive, got {std}")
        if not quality_stds > 0:
            raise CollapsekitError(f"quality_stds must be positive, got {quality_stds}")
        self.name = name
        self.centres = centres.to(torch.float64)  # (K, D)
        self.std = float(std)
        self.quality_stds = float(quality_stds)
        self.sample_shape = (int(centres.shape[1]),)
        if weights is None:
            weights = torch.full((centres.shape[0],), 1.0 / centres.shape[0])
        weights = torch.as_tensor(weights, dtype=torch.float64)
        if weights.shape != (centres.shape[0],) or (weights <= 0).any():
            raise CollapsekitError("weights must be one positive number per centre")
        self._weights = weights / weights.sum()
        self._spec = spec or name

    @property
    def mode_weights(self) -> torch.Tensor:
        return self._weights

    @property
    def spec(self) -> str:
        return self._spec

    @property
    def quality_radius(self) -> float:
        """L2 distance from a centre within which a sample is high quality."""
        return self.quality_stds * self.std

    def sample(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        modes = torch.multinomial(self._weights, n, replacement=True, generator=generator)
        noise = torch.randn(n, self.sample_shape[0], generator=generator, dtype=torch.float64)
        return (self.centres[modes] + self.std * noise).to(torch.float32)  # (n, D)

    def assign(self, samples: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        samples = self.validate_samples(samples).to(torch.float64)
        nearest = torch.empty(samples.shape[0], dtype=torch.int64)
        distance = torch.empty(samples.shape[0], dtype=torch.float64)
        for start in range(0, samples.shape[0], 8192):  # bounded memory: chunk x K distances
            chunk = samples[start : start + 8192]
            d = torch.cdist(chunk, self.centres)  # (chunk, K)
            distance[start : start + 8192], nearest[start : start + 8192] = d.min(dim=1)
        return nearest, distance <= self.quality_radius


def ring(modes: int = 8, radius: float = 2.0, std: float = 0.02, name: str = "ring8") -> GaussianMixture:
    """``modes`` Gaussians evenly spaced on a circle (8 distinct modes; no repeated angle)."""
    if modes < 1:
        raise CollapsekitError(f"ring needs at least one mode, got modes={modes}")
    if not radius > 0:
        raise CollapsekitError(f"radius must be positive, got {radius}")
    # endpoint excluded: linspace(0, 2pi, 8) would put two modes on the same angle (Metz notebook bug)
    angles = torch.arange(modes, dtype=torch.float64) * (2 * math.pi / modes)
    centres = radius * torch.stack([angles.cos(), angles.sin()], dim=1)
    spec = f"{name}:modes={modes},radius={radius:g},std={std:g}"
    return GaussianMixture(name, centres, std=std, spec=spec)


def grid(side: int = 5, spacing: float = 2.0, std: float = 0.05, name: str = "grid25") -> GaussianMixture:
    """A ``side`` x ``side`` grid of Gaussians centred on the origin ({-4,-2,0,2,4}^2 by default)."""
    if side < 1:
        raise CollapsekitError(f"grid needs side >= 1, got side={side}")
    if not spacing > 0:
        raise CollapsekitError(f"spacing must be positive, got {spacing}")
    ticks = (torch.arange(side, dtype=torch.float64) - (side - 1) / 2) * spacing
    centres = torch.cartesian_prod(ticks, ticks)
    spec = f"{name}:side={side},spacing={spacing:g},std={std:g}"
    return GaussianMixture(name, centres, std=std, spec=spec)
