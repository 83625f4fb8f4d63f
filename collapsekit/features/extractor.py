"""The feature extractor type: samples (N, *shape) to features (N, F), and to class logits."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch

from collapsekit.errors import CollapsekitError


@dataclass
class FeatureExtractor:
    """Maps samples (N, *shape) to features (N, F), and, when it can, to class logits (N, C).

    ``features`` and ``logits`` take one batch; calling the extractor runs them
    over all samples in batches of ``batch_size`` without gradients.
    """

    name: str
    features: Callable[[torch.Tensor], torch.Tensor]
    logits: Callable[[torch.Tensor], torch.Tensor] | None = None  # for the Inception Score
    batch_size: int = 512

    def __call__(self, samples: torch.Tensor) -> torch.Tensor:
        """Features of all samples: (N, F) float."""
        return self._batched(self.features, samples)

    def class_logits(self, samples: torch.Tensor) -> torch.Tensor | None:
        """Class logits of all samples (N, C), or None when this extractor has no classifier."""
        return None if self.logits is None else self._batched(self.logits, samples)

    @torch.no_grad()
    def _batched(
        self, function: Callable[[torch.Tensor], torch.Tensor], samples: torch.Tensor
    ) -> torch.Tensor:
        if samples.shape[0] == 0:
            raise CollapsekitError(f"{self.name}: no samples to extract features from")
        outputs = [
            function(samples[start : start + self.batch_size])
            for start in range(0, samples.shape[0], self.batch_size)
        ]
        return torch.cat(outputs).flatten(1).float()


def identity_extractor() -> FeatureExtractor:
    """The samples themselves, flattened: (N, *shape) -> (N, D)."""
    return FeatureExtractor("identity", lambda samples: samples.flatten(1).float())
