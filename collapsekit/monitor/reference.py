"""The Monitor's data: a dataset with known modes, or real samples scored by feature metrics."""

from __future__ import annotations

import logging
import math
from collections.abc import Callable

import numpy as np
import torch

from collapsekit.data import Dataset, check_samples, get_dataset
from collapsekit.errors import CollapsekitError
from collapsekit.memory import check_fits_in_memory
from collapsekit.metrics import keys
from collapsekit.metrics.inputs import check_features
from collapsekit.metrics.manifold import manifold_metrics
from collapsekit.metrics.modes import mode_metrics
from collapsekit.metrics.ndb import DEFAULT_BINS, NumberOfDifferentBins
from collapsekit.metrics.scale import scale_mismatch

logger = logging.getLogger(__name__)

NONFINITE_FRAC = "nonfinite_frac"  # history column: share of samples holding NaN or inf
MAX_REFERENCE_SAMPLES = 10_000  # default evaluation size for data given as real samples
NDB_SAMPLES_PER_BIN = 20  # NDB bins: at most one per this many real samples (100 at most)


class MonitorData:
    """What the Monitor scores samples against: a dataset with known modes, or real samples.

    Example:
        >>> MonitorData("ring8").spec
        'ring8:modes=8,radius=2,std=0.02'
    """

    def __init__(
        self,
        data: str | Dataset | torch.Tensor | np.ndarray,
        features: Callable[[torch.Tensor], torch.Tensor] | None = None,
    ) -> None:
        self.dataset, self.reference = resolve_data(data)
        self.scale_warned = False
        self._reference_metrics = (
            ReferenceMetrics(self.reference, features) if self.reference is not None else None
        )

    @property
    def default_num_samples(self) -> int:
        """The dataset's evaluation protocol, or as many real samples as given up to 10,000."""
        if self.dataset is not None:
            return self.dataset.eval_samples
        return min(len(self.reference), MAX_REFERENCE_SAMPLES)

    @property
    def sample_shape(self) -> tuple[int, ...]:
        return tuple(
            self.dataset.sample_shape if self.dataset is not None else self.reference.shape[1:]
        )

    @property
    def spec(self) -> str:
        """The dataset's spec, or ``samples(N, D...)`` for data given as real samples."""
        if self.dataset is not None:
            return self.dataset.spec
        return f"samples{tuple(self.reference.shape)}"

    @property
    def name(self) -> str:
        """How error messages name the data."""
        return self.dataset.name if self.dataset is not None else "the real samples given as data"

    def score(self, samples: torch.Tensor, min_share: float) -> dict:
        """Mode metrics (known modes) or feature metrics (real samples); for samples holding
        NaN or inf only their count and ``nonfinite_frac`` (the share of such rows)."""
        if not torch.isfinite(samples).all():
            bad = float((~torch.isfinite(samples)).flatten(1).any(1).double().mean())
            return {keys.NUM_SAMPLES: int(samples.shape[0]), NONFINITE_FRAC: bad}
        if self.dataset is not None:
            return mode_metrics(samples, self.dataset, min_share=min_share)
        return self._reference_metrics(samples)

    def warn_scale(self, step: int, samples: torch.Tensor) -> None:
        """Log once, in one line, when finite samples look like the modes on another scale."""
        if self.scale_warned or self.dataset is None:
            return
        message = scale_mismatch(samples, self.dataset)
        if message is not None:
            self.scale_warned = True
            logger.warning("step %d: %s", step, message)


def check_sample_memory(num_samples: int, sample_shape: tuple[int, ...], protocol: int) -> None:
    """Refuse, before allocating, an evaluation whose samples would not fit in memory.

    The samples of one evaluation are float32 and exist twice while being
    gathered (the chunks and their concatenation).
    """
    values = num_samples * math.prod(sample_shape)
    check_fits_in_memory(
        values * 4 * 2,
        f"num_samples={num_samples:,} ({math.prod(sample_shape):,} floats each)",
        f"pass a smaller num_samples (the data's protocol is {protocol:,})",
    )


def resolve_data(data: object) -> tuple[Dataset | None, torch.Tensor | None]:
    """A dataset (name, spec or object), or validated real samples (N, ...) on the CPU."""
    if isinstance(data, (str, Dataset)):
        return get_dataset(data), None
    if isinstance(data, (torch.Tensor, np.ndarray)):
        if data.ndim < 2:
            raise CollapsekitError(
                f"data given as real samples must be (N, ...), one sample per row; got shape "
                f"{tuple(data.shape)}: reshape with data.reshape(-1, 1) for 1-D points"
            )
        reference = check_samples(
            data, tuple(data.shape[1:]), what="data (real samples)", dataset="Monitor"
        )
        if reference.shape[0] < 2:
            raise CollapsekitError(
                f"data holds {reference.shape[0]} real sample; pass at least a few hundred"
            )
        return None, reference
    raise CollapsekitError(
        f"data must be a dataset name, a Dataset or a tensor of real samples (N, ...), got {type(data).__name__}"
    )


class ReferenceMetrics:
    """Feature metrics of generated samples against fixed real samples (data without known modes).

    Precision and recall (k=3), density and coverage (k=5), and NDB with bins
    fitted once on the real samples (k-means; 100 bins, fewer for small sets).
    """

    def __init__(
        self, real: torch.Tensor, features: Callable[[torch.Tensor], torch.Tensor] | None
    ) -> None:
        self.real = real  # (N, *sample_shape) on the CPU
        self.features = features
        self._real_features: torch.Tensor | None = None  # (N, F), computed at the first evaluation
        self._bins: NumberOfDifferentBins | None = None

    def _to_features(self, samples: torch.Tensor, what: str) -> torch.Tensor:
        if self.features is None:
            return samples.flatten(1)  # (N, D)
        with torch.no_grad():
            values = self.features(samples)
        return check_features(values, f"features({what})").detach().to("cpu", torch.float32)

    def __call__(self, samples: torch.Tensor) -> dict:
        if self._real_features is None:
            self._real_features = self._to_features(self.real, "real samples")
            bins = min(DEFAULT_BINS, len(self.real) // NDB_SAMPLES_PER_BIN)
            if bins >= 2:
                self._bins = NumberOfDifferentBins(bins=bins).fit(self._real_features)
        fake = self._to_features(samples, "generated samples")
        result = manifold_metrics(self._real_features, fake)
        if self._bins is not None:
            result.update(self._bins.score(fake))
        result[keys.NUM_SAMPLES] = int(samples.shape[0])
        return result
