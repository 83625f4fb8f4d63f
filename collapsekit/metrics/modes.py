"""Mode metrics for data with known modes: how many modes, how well, how evenly.

Definitions (the protocol of VEEGAN and PacGAN, so numbers compare with papers):

- ``modes_captured``: modes with at least one high-quality sample. This count
  grows with the number of samples, so it is paired with the robust count below.
- ``modes_covered``: modes holding at least ``min_share`` of the samples they
  should hold, i.e. ``count_k >= min_share * N * w_k`` (N all samples, w_k the
  true weight). With 2,500 samples on ring8 and ``min_share=0.1`` a mode needs 32.
- ``modes_reached``: the same rule counting every sample at its nearest mode,
  good or not. Many modes reached with few covered means blurry samples that
  spread over the modes without lying near them, not a collapse.
- ``high_quality_frac``: share of all samples that are high quality (the
  dataset's ``assign`` decides; 3 std of the nearest centre for mixtures).
- ``mode_counts``: high-quality samples per mode.
- ``mode_kl``: KL(p || w) = sum_k p_k log(p_k / w_k) in nats, where p is the
  histogram of high-quality samples over modes (normalised) and w the true
  weights. Terms with p_k = 0 contribute 0. No smoothing is applied or needed:
  every w_k > 0, so the sum is finite for any histogram; all samples in one mode
  of K equal modes gives exactly log K. With no high-quality sample at all the
  histogram does not exist and ``mode_kl`` is NaN.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass, field

import torch

from collapsekit.data.base import Dataset
from collapsekit.errors import CollapsekitError
from collapsekit.metrics import keys

DEFAULT_MIN_SHARE = 0.1


def mode_metrics(
    samples: torch.Tensor,
    dataset: Dataset,
    min_share: float = DEFAULT_MIN_SHARE,
) -> dict[str, object]:
    """Mode metrics of generated ``samples`` (N, *sample_shape) against ``dataset``.

    Example:
        >>> from collapsekit.data import get_dataset
        >>> ring = get_dataset("ring8")
        >>> result = mode_metrics(ring.centres.float(), ring)
        >>> result["modes_captured"], result["high_quality_frac"]
        (8, 1.0)
    """
    coverage = ModeCoverage(dataset, min_share=min_share)
    coverage.update(samples)
    return coverage.compute()


@dataclass
class ModeCoverage:
    """Streaming mode metrics: ``update`` over batches, ``compute``, ``merge``, ``reset``.

    State is bounded: one count per mode plus two totals, whatever the number of
    samples. ``compute`` after updates over any batching equals ``mode_metrics``
    on all samples at once.
    """

    dataset: Dataset
    min_share: float = DEFAULT_MIN_SHARE
    counts_: torch.Tensor = field(init=False)  # (K,) high-quality samples per mode
    nearest_: torch.Tensor = field(init=False)  # (K,) all samples per nearest mode
    total_: int = field(init=False, default=0)  # all samples seen
    high_quality_: int = field(init=False, default=0)

    def __post_init__(self) -> None:
        share = self.min_share
        if isinstance(share, bool) or not isinstance(share, numbers.Real) or not 0 <= share <= 1:
            raise CollapsekitError(f"min_share must lie in [0, 1], got {share!r}")
        self.reset()

    def reset(self) -> None:
        self.counts_ = torch.zeros(self.dataset.modes_total, dtype=torch.int64)
        self.nearest_ = torch.zeros(self.dataset.modes_total, dtype=torch.int64)
        self.total_ = 0
        self.high_quality_ = 0

    def update(self, samples: torch.Tensor) -> None:
        mode_index, is_high_quality = self.dataset.assign(samples)
        self.counts_ += torch.bincount(
            mode_index[is_high_quality], minlength=self.dataset.modes_total
        )
        self.nearest_ += torch.bincount(mode_index, minlength=self.dataset.modes_total)
        self.total_ += int(mode_index.numel())
        self.high_quality_ += int(is_high_quality.sum())

    def merge(self, other: ModeCoverage) -> None:
        if other.dataset.spec != self.dataset.spec or other.min_share != self.min_share:
            raise CollapsekitError("can only merge ModeCoverage states of the same dataset and min_share")
        self.counts_ += other.counts_
        self.nearest_ += other.nearest_
        self.total_ += other.total_
        self.high_quality_ += other.high_quality_

    def compute(self) -> dict[str, object]:
        if self.total_ == 0:
            raise CollapsekitError("ModeCoverage.compute() called before any update(); pass samples first")
        result = _compute(self.counts_, self.total_, self.dataset.mode_weights, self.min_share)
        expected = self.total_ * self.dataset.mode_weights
        reached = (self.nearest_ >= self.min_share * expected) & (self.nearest_ > 0)
        result[keys.MODES_REACHED] = int(reached.sum())
        return result


def _compute(
    counts: torch.Tensor, total: int, weights: torch.Tensor, min_share: float
) -> dict[str, object]:
    high_quality = int(counts.sum())
    expected = total * weights  # (K,) samples each mode should hold
    return {
        keys.MODES_CAPTURED: int((counts > 0).sum()),
        keys.MODES_TOTAL: int(counts.numel()),
        keys.MODES_COVERED: int((counts >= min_share * expected).logical_and(counts > 0).sum()),
        keys.HIGH_QUALITY_FRAC: high_quality / total,
        keys.MODE_COUNTS: [int(c) for c in counts],
        keys.MODE_KL: mode_kl(counts, weights),
        keys.NUM_SAMPLES: int(total),
    }


def mode_kl(counts: torch.Tensor, weights: torch.Tensor) -> float:
    """KL(p || w) in nats of the normalised ``counts`` against ``weights``; NaN if counts are all 0.

    Example:
        >>> mode_kl(torch.tensor([10, 0, 0, 0]), torch.full((4,), 0.25))  # log 4
        1.3862943611198906
    """
    counts = counts.to(torch.float64)
    total = counts.sum()
    if total <= 0:
        return math.nan
    p = counts / total
    present = p > 0
    return float((p[present] * (p[present] / weights.to(torch.float64)[present]).log()).sum())
