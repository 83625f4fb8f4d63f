"""Gaussian mixtures with known modes: ring8, grid25 and their relatives."""

from __future__ import annotations

import json
import math
import os

import numpy as np
import torch

from collapsekit.atomic import atomic_write_text
from collapsekit.data.base import Dataset
from collapsekit.errors import CollapsekitError

MIXTURE_KIND = "gaussian_mixture"  # the "kind" of a stored mixture record


class GaussianMixture(Dataset):
    """Isotropic Gaussian mixture in D dimensions: your own centres, std and weights.

    A sample is high quality when its L2 distance to the nearest centre is at
    most ``quality_stds * std`` (3 std, as VEEGAN and PacGAN count). A Monitor
    stores the mixture itself in ``config.json`` (``to_dict``), so report,
    evaluate and resume rebuild it exactly; ``to_json`` saves it for
    ``collapsekit evaluate --data-file``.

    Example:
        >>> eight = GaussianMixture([[1.0, 0.0], [0.0, 1.0]], std=0.05, name="two")
        >>> eight.modes_total, eight.spec
        (2, 'two')
        >>> GaussianMixture.from_json(eight.to_json()).centres.tolist()
        [[1.0, 0.0], [0.0, 1.0]]
    """

    def __init__(
        self,
        centres: torch.Tensor | np.ndarray | list,
        std: float,
        weights: torch.Tensor | np.ndarray | list | None = None,
        name: str = "mixture",
        quality_stds: float = 3.0,
        spec: str | None = None,
    ) -> None:
        self.centres = _centres(centres)  # (K, D) float64
        self.std = _positive("std", std)
        self.quality_stds = _positive("quality_stds", quality_stds)
        if not isinstance(name, str) or not name.strip() or ":" in name or "," in name:
            raise CollapsekitError(
                f"name must be a non-empty string without ':' or ',', got {name!r}"
            )
        self.name = name
        self.sample_shape = (int(self.centres.shape[1]),)
        self._weights = _weights(weights, self.centres.shape[0])
        self._spec = spec or name

    def to_dict(self) -> dict:
        """The mixture as plain JSON values: name, centres, std, weights, quality_stds, spec."""
        return {
            "kind": MIXTURE_KIND,
            "name": self.name,
            "spec": self.spec,
            "centres": self.centres.tolist(),
            "std": self.std,
            "weights": self._weights.tolist(),
            "quality_stds": self.quality_stds,
        }

    @classmethod
    def from_dict(cls, record: dict) -> GaussianMixture:
        """Rebuild a mixture from ``to_dict()``; CollapsekitError naming what is missing or bad."""
        if not isinstance(record, dict) or "centres" not in record or "std" not in record:
            raise CollapsekitError(
                "a mixture record needs 'centres' and 'std' (save one with mixture.to_json())"
            )
        return cls(
            record["centres"],
            record["std"],
            weights=record.get("weights"),
            name=str(record.get("name", "mixture")),
            quality_stds=record.get("quality_stds", 3.0),
            spec=record.get("spec"),
        )

    def to_json(self, path: str | os.PathLike | None = None) -> str:
        """The mixture as JSON text; also written (atomically) to ``path`` when given."""
        text = json.dumps(self.to_dict(), indent=2) + "\n"
        if path is not None:
            atomic_write_text(path, text)
        return text

    @classmethod
    def from_json(cls, text: str) -> GaussianMixture:
        """Rebuild a mixture from ``to_json()`` text."""
        try:
            record = json.loads(text)
        except json.JSONDecodeError as error:
            raise CollapsekitError(f"a mixture file must be JSON ({error})") from None
        return cls.from_dict(record)

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


def _centres(centres: object) -> torch.Tensor:
    try:
        values = torch.as_tensor(np.asarray(centres, dtype=np.float64))
    except (TypeError, ValueError) as error:
        raise CollapsekitError(
            f"centres must be numbers, (K, D), got {type(centres).__name__}: {error}"
        ) from None
    if values.dim() != 2 or values.shape[0] < 1 or values.shape[1] < 1:
        raise CollapsekitError(
            f"centres must be (K, D): one row per mode, got shape {tuple(values.shape)}"
        )
    if not torch.isfinite(values).all():
        raise CollapsekitError("centres must be finite numbers")
    return values


def _positive(name: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise CollapsekitError(f"{name} must be a positive number, got {value!r}")
    if not math.isfinite(value):
        raise CollapsekitError(f"{name} must be finite, got {value}")
    if not value > 0:
        raise CollapsekitError(f"{name} must be positive, got {value}")
    return float(value)


def _weights(weights: object, modes: int) -> torch.Tensor:
    if weights is None:
        return torch.full((modes,), 1.0 / modes, dtype=torch.float64)
    try:
        values = torch.as_tensor(np.asarray(weights, dtype=np.float64))
    except (TypeError, ValueError):
        values = torch.empty(0)
    if values.shape != (modes,) or not torch.isfinite(values).all() or (values <= 0).any():
        raise CollapsekitError(f"weights must be one positive number per centre ({modes})")
    return values / values.sum()


def ring(
    modes: int = 8, radius: float = 2.0, std: float = 0.02, name: str = "ring8"
) -> GaussianMixture:
    """``modes`` Gaussians evenly spaced on a circle (8 distinct modes; no repeated angle)."""
    if modes < 1:
        raise CollapsekitError(f"ring needs at least one mode, got modes={modes}")
    if not radius > 0:
        raise CollapsekitError(f"radius must be positive, got {radius}")
    # endpoint excluded: linspace(0, 2pi, 8) would put two modes on the same angle (Metz notebook bug)
    angles = torch.arange(modes, dtype=torch.float64) * (2 * math.pi / modes)
    centres = radius * torch.stack([angles.cos(), angles.sin()], dim=1)
    spec = f"{name}:modes={modes},radius={radius:g},std={std:g}"
    return GaussianMixture(centres, std, name=name, spec=spec)


def grid(
    side: int = 5, spacing: float = 2.0, std: float = 0.05, name: str = "grid25"
) -> GaussianMixture:
    """A ``side`` x ``side`` grid of Gaussians centred on the origin ({-4,-2,0,2,4}^2 by default)."""
    if side < 1:
        raise CollapsekitError(f"grid needs side >= 1, got side={side}")
    if not spacing > 0:
        raise CollapsekitError(f"spacing must be positive, got {spacing}")
    ticks = (torch.arange(side, dtype=torch.float64) - (side - 1) / 2) * spacing
    centres = torch.cartesian_prod(ticks, ticks)
    spec = f"{name}:side={side},spacing={spacing:g},std={std:g}"
    return GaussianMixture(centres, std, name=name, spec=spec)
