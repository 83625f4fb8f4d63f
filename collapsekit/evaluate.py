"""Score samples from any generator: ``collapsekit.evaluate(samples, dataset=...)``.

Generated samples are compared with real samples (fresh ones of the dataset,
or ``real=``) on every metric that applies, and the result is a dict of the
keys in ``collapsekit.metrics.keys``. ``baseline=True`` scores two independent
real sets against each other instead: the numbers a perfect generator would get
with as many samples.

Metric groups (``metrics=`` takes group names or any result key in them):

==================  =============================================================
``modes``           modes captured/covered, high-quality share, counts, KL (known modes)
``fid``             FID (warns below 2,048 samples)
``kid``             KID and its spread over subsets
``inception_score`` IS with the mode posterior (mixtures) or the extractor's logits
``precision_recall``  precision and recall, k = 3
``density_coverage``  density and coverage, k = 5
``ndb``             number of statistically different bins (k-means bins)
``support``         birthday-paradox support estimate
==================  =============================================================
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Iterable

import torch

from collapsekit.data import Dataset, get_dataset
from collapsekit.errors import CollapsekitError
from collapsekit.evaluate_inputs import generated_samples, real_samples
from collapsekit.features import FeatureExtractor, accepted_options, get_feature_extractor
from collapsekit.limits import check_count, check_seed
from collapsekit.metrics import keys
from collapsekit.metrics.fidelity import fid, inception_score, kid, mode_log_posterior
from collapsekit.metrics.knn_blocks import resolve_device
from collapsekit.metrics.manifold import DENSITY_COVERAGE_K, PRECISION_RECALL_K, manifold_metrics
from collapsekit.metrics.modes import DEFAULT_MIN_SHARE, mode_metrics
from collapsekit.metrics.ndb import DEFAULT_BINS, ndb
from collapsekit.metrics.scale import scale_mismatch
from collapsekit.metrics.support import duplicate_threshold, support_estimate

logger = logging.getLogger(__name__)

METRIC_GROUPS: dict[str, tuple[str, ...]] = {
    "modes": (
        keys.MODES_CAPTURED,
        keys.MODES_TOTAL,
        keys.MODES_COVERED,
        keys.HIGH_QUALITY_FRAC,
        keys.MODE_COUNTS,
        keys.MODE_KL,
    ),
    "fid": (keys.FID,),
    "kid": (keys.KID, keys.KID_STD),
    "inception_score": (keys.INCEPTION_SCORE, keys.INCEPTION_SCORE_STD),
    "precision_recall": (keys.PRECISION, keys.RECALL),
    "density_coverage": (keys.DENSITY, keys.COVERAGE),
    "ndb": (keys.NDB, keys.NDB_FRAC),
    "support": (keys.SUPPORT_ESTIMATE,),
}
FEATURE_GROUPS = ("fid", "kid", "precision_recall", "density_coverage", "ndb", "support")
SAMPLES_PER_NDB_BIN = (
    20  # bins = real samples / 20, at most 100: enough for the z-test's normal approximation
)


def resolve_metrics(metrics: str | Iterable[str] | None) -> list[str] | None:
    """Metric group names from names or result keys (``"fid,precision"``); None means "all that apply".

    Example:
        >>> resolve_metrics("precision, fid")
        ['fid', 'precision_recall']
    """
    if metrics is None:
        return None
    if isinstance(metrics, str):
        names = [part.strip() for part in metrics.split(",")]
    elif isinstance(metrics, Iterable) and all(isinstance(name, str) for name in metrics):
        names = list(metrics)
    else:
        raise CollapsekitError(
            f"metrics must be names like 'fid,precision_recall' or a list of them, got {metrics!r}"
        )
    groups = set()
    for name in filter(None, names):
        group = name if name in METRIC_GROUPS else _group_of_key(name)
        if group is None:
            valid = ", ".join(METRIC_GROUPS)
            raise CollapsekitError(
                f"unknown metric {name!r}; choose from: {valid} (or any of their result keys)"
            )
        groups.add(group)
    if not groups:
        raise CollapsekitError(
            "no metrics selected; name at least one, e.g. --metrics fid,precision_recall"
        )
    return [group for group in METRIC_GROUPS if group in groups]


def _group_of_key(key: str) -> str | None:
    return next((group for group, members in METRIC_GROUPS.items() if key in members), None)


def evaluate(
    samples: object = None,
    dataset: str | Dataset | None = None,
    real: object = None,
    metrics: str | Iterable[str] | None = None,
    *,
    baseline: bool = False,
    num_samples: int | None = None,
    features: str | FeatureExtractor | None = None,
    weights: str | None = None,
    seed: int = 0,
    min_share: float = DEFAULT_MIN_SHARE,
    chunk_size: int | None = None,
    device: str | torch.device | None = None,
) -> dict[str, object]:
    """Score generated ``samples`` (N, *sample_shape) against real samples.

    Args:
        samples: generated samples (tensor or array); omit with ``baseline=True``.
        dataset: dataset name (``"ring8"``, ``"grid25:std=0.1"``) or object (your own
            ``collapsekit.GaussianMixture``); needed for mode metrics and to draw real
            samples. Samples that look like the modes on another scale (0 of K modes
            captured, yet rescaled they would match) raise a one-line warning.
        real: real samples to compare with; default: as many fresh samples of ``dataset``.
        metrics: groups or result keys to compute; default: every one that applies.
        baseline: score fresh real samples (``num_samples`` of them, default the
            dataset's evaluation size) against independent real samples.
        features: feature extractor name or object; default: the dataset's ``feature_space``.
        weights: local weights file for extractors that need one.
        seed: seeds the real samples (and the baseline's second set).

    Example:
        >>> from collapsekit.data import get_dataset
        >>> ring = get_dataset("ring8")
        >>> fake = ring.sample(500, torch.Generator().manual_seed(1))
        >>> result = evaluate(fake, ring, metrics="modes,precision_recall")
        >>> result["modes_captured"], result["precision"] > 0.9
        (8, True)
    """
    seed = check_seed(seed)
    if device is not None:
        resolve_device(torch.empty(0), device)  # an unknown device fails now, before any work
    num_samples = None if num_samples is None else check_count(num_samples, "num_samples")
    data = get_dataset(dataset) if dataset is not None else None
    groups = resolve_metrics(metrics)
    generated = generated_samples(samples, data, real, baseline, num_samples, seed)
    reference = real_samples(real, data, generated, seed)
    extractor = _extractor(features, data, weights, device) if _needs_features(groups) else None
    groups = _applicable_groups(groups, data, extractor)
    _check_enough_samples(groups, generated.shape[0], reference.shape[0])
    result: dict[str, object] = {keys.NUM_SAMPLES: int(generated.shape[0])}
    if "modes" in groups:
        result.update(mode_metrics(generated, data, min_share=min_share))
        _warn_scale(generated, data)
    if "inception_score" in groups:
        result.update(inception_score(_log_posterior(generated, data, extractor), seed=seed))
    feature_groups = [group for group in groups if group in FEATURE_GROUPS]
    if feature_groups:
        real_features, fake_features = extractor(reference), extractor(generated)
        result.update(
            feature_metrics(
                real_features,
                fake_features,
                feature_groups,
                seed=seed,
                chunk_size=chunk_size,
                device=device,
            )
        )
    return result


def feature_metrics(
    real_features: torch.Tensor,
    fake_features: torch.Tensor,
    metrics: Iterable[str] = FEATURE_GROUPS,
    *,
    seed: int = 0,
    chunk_size: int | None = None,
    device: str | torch.device | None = None,
) -> dict[str, object]:
    """The feature metrics ``metrics`` (groups among ``FEATURE_GROUPS``) of real vs generated features.

    For callers that keep real features between evaluations (the monitor).

    Example:
        >>> result = feature_metrics(torch.randn(400, 3), torch.randn(400, 3), ["precision_recall"])
        >>> sorted(result)
        ['precision', 'recall']
    """
    groups = set(resolve_metrics(list(metrics)) or ())
    unknown = groups - set(FEATURE_GROUPS)
    if unknown:
        raise CollapsekitError(
            f"feature_metrics computes {', '.join(FEATURE_GROUPS)}; not {', '.join(sorted(unknown))}"
        )
    result: dict[str, object] = {}
    if "fid" in groups:
        result[keys.FID] = fid(real_features, fake_features)
    if "kid" in groups:
        result.update(kid(real_features, fake_features, seed=seed))
    if groups & {"precision_recall", "density_coverage"}:
        precision_k = PRECISION_RECALL_K if "precision_recall" in groups else None
        density_k = DENSITY_COVERAGE_K if "density_coverage" in groups else None
        result.update(
            manifold_metrics(
                real_features, fake_features, precision_k, density_k, chunk_size, device
            )
        )
    if "ndb" in groups:
        bins = min(DEFAULT_BINS, real_features.shape[0] // SAMPLES_PER_NDB_BIN)
        result.update(ndb(real_features, fake_features, bins=bins, seed=seed))
    if "support" in groups:
        threshold = duplicate_threshold(real_features, chunk_size)
        result[keys.SUPPORT_ESTIMATE] = support_estimate(
            fake_features, threshold, chunk_size, device
        )
    return result


def _needs_features(groups: list[str] | None) -> bool:
    return groups is None or any(
        group in FEATURE_GROUPS or group == "inception_score" for group in groups
    )


def _extractor(
    features: str | FeatureExtractor | None,
    data: Dataset | None,
    weights: str | None,
    device: object,
) -> FeatureExtractor:
    if isinstance(features, FeatureExtractor):
        return features
    name = features or (data.feature_space if data is not None else "identity")
    options = accepted_options(name, dataset=data, weights=weights, device=device)
    if weights is not None and "weights" not in options:
        raise CollapsekitError(f"feature extractor {name!r} takes no weights file; drop --weights")
    return get_feature_extractor(name, **options)


def _applicable_groups(
    groups: list[str] | None, data: Dataset | None, extractor: FeatureExtractor | None
) -> list[str]:
    has_posterior = data is not None and _has_mode_posterior(data)
    can_score = has_posterior or (extractor is not None and extractor.logits is not None)
    if groups is None:
        skip = set() if data is not None else {"modes"}
        skip |= set() if can_score else {"inception_score"}
        return [group for group in METRIC_GROUPS if group not in skip]
    if "modes" in groups and data is None:
        raise CollapsekitError(
            "mode metrics need a dataset with known modes; pass dataset= (--data)"
        )
    if "inception_score" in groups and not can_score:
        raise CollapsekitError(
            "the Inception Score needs a classifier: a dataset with a mode posterior or a feature extractor with logits"
        )
    return groups


def _has_mode_posterior(data: Dataset) -> bool:
    from collapsekit.data.mixtures import GaussianMixture

    return isinstance(data, GaussianMixture) or callable(getattr(data, "mode_log_posterior", None))


def _log_posterior(
    samples: torch.Tensor, data: Dataset | None, extractor: FeatureExtractor | None
) -> torch.Tensor:
    if data is not None and _has_mode_posterior(data):
        return mode_log_posterior(samples, data)
    return extractor.class_logits(samples)


def _warn_scale(samples: torch.Tensor, data: Dataset) -> None:
    """One warning line when the samples look like the modes on another scale (0 of K modes)."""
    message = scale_mismatch(samples, data)
    if message is not None:
        warnings.warn(message, stacklevel=3)


def _check_enough_samples(groups: list[str], generated: int, real: int) -> None:
    needed = {
        "precision_recall": PRECISION_RECALL_K + 1,
        "density_coverage": DENSITY_COVERAGE_K + 1,
        "fid": 2,
        "kid": 2,
    }
    needed["ndb"] = 2 * SAMPLES_PER_NDB_BIN
    needed["support"] = 2
    for group in groups:
        minimum = needed.get(group, 1)
        if min(generated, real) < minimum:
            raise CollapsekitError(
                f"{group} needs at least {minimum} generated and {minimum} real samples, got {generated} and {real}; "
                "pass more samples or leave it out of the metrics"
            )
