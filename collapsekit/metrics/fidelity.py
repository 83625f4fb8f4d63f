"""FID, KID and Inception Score through torch-fidelity's feature-level functions.

torch-fidelity computes the numbers (``fid_features_to_statistics`` and
``fid_statistics_to_metric``, ``kid_features_to_metric``,
``isc_features_to_metric``); this module feeds it checked float64 features and
makes the results safe in the regime collapsekit exists for:

- FID stays finite when the generated covariance is singular (a generator
  collapsed to a point or a line): torch-fidelity takes the real part of the
  square roots of the eigenvalues of the covariance product, so zero or
  slightly negative eigenvalues give 0, never NaN; rounding below 0 is clipped.
- FID warns below 2,048 samples (TTUR): it is biased upward for small sets.
- For data with known modes the Inception Score uses the mode posterior as its
  classifier, so it lies between 1 and the number of modes; classes no sample
  can belong to (dropped modes) no longer turn it into NaN.
- KID draws torch-fidelity's subsets and scores them with its ``mmd2``; the
  kernel matrices are computed in torch (the original's numpy cube is slow).
"""

from __future__ import annotations

import logging
import math
import warnings

import numpy as np
import torch

from collapsekit.data.base import Dataset
from collapsekit.data.mixtures import GaussianMixture
from collapsekit.errors import CollapsekitError
from collapsekit.metrics import keys
from collapsekit.metrics.inputs import check_feature_pair, check_features

logger = logging.getLogger(__name__)

FID_MIN_SAMPLES = 2048  # TTUR: fewer samples bias FID upward
KID_SUBSETS = 100  # torch-fidelity's defaults
KID_SUBSET_SIZE = 1000
INCEPTION_SCORE_SPLITS = 10
LOG_PROBABILITY_FLOOR = -700.0  # exp(-700) ~ 1e-304 is still a positive float64


def fid(real_features: torch.Tensor, fake_features: torch.Tensor) -> float:
    """Frechet distance between Gaussians fitted to real and generated features.

    Warns (``UserWarning``) below 2,048 samples in either set; never NaN for
    finite features, and 0 for identical sets.

    Example:
        >>> features = torch.randn(3000, 4)
        >>> round(fid(features, features), 9)
        0.0
    """
    real, fake = check_feature_pair(real_features, fake_features, min_rows=2)
    smallest = min(real.shape[0], fake.shape[0])
    if smallest < FID_MIN_SAMPLES:
        warnings.warn(
            f"FID from {smallest} samples is biased upward; use at least {FID_MIN_SAMPLES:,} "
            "(10,000 recommended) for numbers comparable with papers",
            UserWarning,
            stacklevel=2,
        )
    from torch_fidelity.metric_fid import (
        KEY_METRIC_FID,
        fid_statistics_to_metric,
    )  # imported on use: slow

    real_statistics = _fid_statistics(real)
    fake_statistics = _fid_statistics(fake)
    with np.errstate(invalid="ignore"):
        value = fid_statistics_to_metric(fake_statistics, real_statistics, verbose=False)[
            KEY_METRIC_FID
        ]
    if not math.isfinite(value):
        raise CollapsekitError(
            f"FID came out as {value} although the features are finite; "
            "their scale is probably extreme: standardise them first"
        )
    return max(0.0, value)


def _fid_statistics(features: torch.Tensor) -> dict[str, np.ndarray]:
    from torch_fidelity.metric_fid import fid_features_to_statistics

    statistics = fid_features_to_statistics(features.detach().to("cpu", torch.float64))
    statistics["sigma"] = np.atleast_2d(statistics["sigma"])  # one feature: np.cov gives a scalar
    return statistics


def kid(
    real_features: torch.Tensor,
    fake_features: torch.Tensor,
    subsets: int = KID_SUBSETS,
    subset_size: int = KID_SUBSET_SIZE,
    seed: int = 2020,
) -> dict[str, float]:
    """Kernel Inception Distance: unbiased MMD^2 with a cubic polynomial kernel over random subsets.

    Draws the same subsets as torch-fidelity's ``kid_features_to_metric`` (its
    random state, generated features first) and scores each with its ``mmd2``;
    only the kernel matrices are computed here, in torch, because numpy's
    cube of a 1000 x 1000 matrix is the slow part of the original.
    ``subset_size`` shrinks to the smaller set when either holds fewer samples.

    Example:
        >>> sorted(kid(torch.randn(200, 4), torch.randn(200, 4), subsets=10))
        ['kid', 'kid_std']
    """
    real, fake = check_feature_pair(real_features, fake_features, min_rows=2)
    if subsets < 1:
        raise CollapsekitError(f"subsets must be at least 1, got {subsets}")
    size = min(subset_size, real.shape[0], fake.shape[0])
    fake = fake.detach().to("cpu", torch.float64)
    real = real.detach().to("cpu", torch.float64)
    from torch_fidelity.metric_kid import mmd2

    random_state = np.random.RandomState(seed)
    values = np.zeros(subsets)
    for index in range(subsets):
        fake_subset = fake[random_state.choice(fake.shape[0], size, replace=False)]  # (S, D)
        real_subset = real[random_state.choice(real.shape[0], size, replace=False)]  # (S, D)
        values[index] = mmd2(
            _cubic_kernel(fake_subset, fake_subset),
            _cubic_kernel(fake_subset, real_subset),
            _cubic_kernel(real_subset, real_subset),
        )
    return {keys.KID: float(np.mean(values)), keys.KID_STD: _spread(values)}


def _spread(values: np.ndarray) -> float:
    """Standard deviation of ``values``, scaled first so that squares of huge values stay finite."""
    scale = float(np.max(np.abs(values)))
    if scale == 0 or not math.isfinite(scale):
        return float(np.std(values)) if scale == 0 else math.nan
    return scale * float(np.std(values / scale))


def _cubic_kernel(first: torch.Tensor, second: torch.Tensor) -> np.ndarray:
    """torch-fidelity's default KID kernel (x.y / D + 1)^3: (S, S) numpy float64."""
    return ((first @ second.T) / first.shape[1] + 1).pow(3).numpy()


def inception_score(
    log_probabilities: torch.Tensor,
    splits: int = INCEPTION_SCORE_SPLITS,
    shuffle: bool = True,
    seed: int = 2020,
) -> dict[str, float]:
    """exp(E_x KL(p(y|x) || p(y))) from class logits or log-probabilities (N, C), over ``splits``.

    Example:
        >>> one_hot_logits = 50.0 * torch.eye(4).repeat(25, 1)  # 100 confident samples, 4 classes
        >>> round(inception_score(one_hot_logits, splits=1)["inception_score"], 6)
        4.0
    """
    if not isinstance(splits, int) or splits < 1:
        raise CollapsekitError(f"splits must be a positive integer, got {splits!r}")
    logits = check_features(log_probabilities, "class log-probabilities", min_rows=splits)
    # A class no sample can be in has probability 0, and torch-fidelity's 0 * log 0 is NaN:
    # floor the log-probabilities at LOG_PROBABILITY_FLOOR (probabilities ~1e-304, numerically nothing).
    log_probabilities = (
        logits.detach().to("cpu", torch.float64).log_softmax(1).clamp_min(LOG_PROBABILITY_FLOOR)
    )
    from torch_fidelity.metric_isc import (
        KEY_METRIC_ISC_MEAN,
        KEY_METRIC_ISC_STD,
        isc_features_to_metric,
    )

    result = isc_features_to_metric(log_probabilities, splits, shuffle, seed)
    return {
        keys.INCEPTION_SCORE: result[KEY_METRIC_ISC_MEAN],
        keys.INCEPTION_SCORE_STD: result[KEY_METRIC_ISC_STD],
    }


def mixture_log_posterior(samples: torch.Tensor, mixture: GaussianMixture) -> torch.Tensor:
    """log p(mode | x) under an isotropic Gaussian mixture: (N, K) float64, finite.

    Example:
        >>> from collapsekit.data import get_dataset
        >>> ring = get_dataset("ring8")
        >>> mixture_log_posterior(ring.centres.float(), ring).argmax(1).tolist()
        [0, 1, 2, 3, 4, 5, 6, 7]
    """
    samples = mixture.validate_samples(samples).to(torch.float64)
    log_joint = torch.empty(samples.shape[0], mixture.modes_total, dtype=torch.float64)
    log_weights = mixture.mode_weights.log()
    for start in range(0, samples.shape[0], 8192):  # bounded memory: chunk x K distances
        chunk = samples[start : start + 8192]
        squared = torch.cdist(
            chunk, mixture.centres, compute_mode="donot_use_mm_for_euclid_dist"
        ).square()
        log_joint[start : start + 8192] = log_weights - squared / (2 * mixture.std**2)
    return log_joint - log_joint.logsumexp(1, keepdim=True)


def mode_log_posterior(samples: torch.Tensor, dataset: Dataset) -> torch.Tensor | None:
    """The dataset's mode posterior log p(mode | x) (N, K), or None when it has none.

    Gaussian mixtures compute it from their density; any other dataset may
    provide a ``mode_log_posterior(samples)`` method (e.g. from a mode classifier).
    """
    if isinstance(dataset, GaussianMixture):
        return mixture_log_posterior(samples, dataset)
    method = getattr(dataset, "mode_log_posterior", None)
    if callable(method):
        return method(samples)
    return None


def mode_inception_score(
    samples: torch.Tensor, dataset: Dataset, splits: int = INCEPTION_SCORE_SPLITS, seed: int = 2020
) -> dict[str, float]:
    """Inception Score with the dataset's mode posterior as the classifier; at most the number of modes.

    Example:
        >>> from collapsekit.data import get_dataset
        >>> ring = get_dataset("ring8")
        >>> score = mode_inception_score(ring.centres.float().repeat(100, 1), ring, splits=1)
        >>> round(score["inception_score"], 6)
        8.0
    """
    log_posterior = mode_log_posterior(samples, dataset)
    if log_posterior is None:
        raise CollapsekitError(
            f"dataset {dataset.name!r} has no mode posterior, so the Inception Score needs a "
            "classifier: use a feature extractor that gives class logits"
        )
    return inception_score(log_posterior, splits=splits, seed=seed)
