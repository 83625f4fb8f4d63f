"""NDB: the number of statistically different bins (Richardson & Weiss 2018).

k-means (scikit-learn) splits the real samples into bins; each generated sample
falls into the bin of its nearest centre. For every bin a two-proportion z-test
(normal distribution from scipy) compares the share of real samples with the
share of generated ones; bins with p-value below the significance level are
"different". A dropped mode empties the bins that cover it, so they all become
different; two samples from the same distribution differ in about a
``significance`` share of bins by chance.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch

from collapsekit.errors import CollapsekitError
from collapsekit.metrics import keys
from collapsekit.metrics.inputs import check_feature_pair, check_features

DEFAULT_BINS = 100  # Richardson & Weiss
DEFAULT_SIGNIFICANCE = 0.05


@dataclass
class NumberOfDifferentBins:
    """Bins fitted on real samples, reused to score any number of generated sets.

    Example:
        >>> real = torch.randn(2000, 2)
        >>> test = NumberOfDifferentBins(bins=20).fit(real)
        >>> test.score(real[:1000])["ndb"] <= 20
        True
    """

    bins: int = DEFAULT_BINS
    significance: float = DEFAULT_SIGNIFICANCE
    seed: int = 0  # k-means initialisation
    centres_: np.ndarray = field(init=False, repr=False)  # (bins, D) bin centres
    real_proportions_: np.ndarray = field(init=False, repr=False)  # (bins,) share of real samples
    real_count_: int = field(init=False, default=0)
    p_values_: np.ndarray = field(init=False, repr=False)  # (bins,) of the last score()

    def __post_init__(self) -> None:
        if not isinstance(self.bins, int) or self.bins < 2:
            raise CollapsekitError(f"bins must be an integer of at least 2, got {self.bins!r}")
        if not 0 < self.significance < 1:
            raise CollapsekitError(f"significance must lie in (0, 1), got {self.significance}")

    def fit(self, real: torch.Tensor) -> NumberOfDifferentBins:
        """Cluster the real samples (N, D) into ``bins`` bins."""
        real = check_features(real, "real samples", min_rows=self.bins)
        from sklearn.cluster import KMeans  # imported on use: slow

        data = real.detach().to("cpu", torch.float64).numpy()
        kmeans = KMeans(n_clusters=self.bins, n_init=1, random_state=self.seed).fit(data)
        self._kmeans = kmeans
        self.centres_ = kmeans.cluster_centers_
        counts = np.bincount(kmeans.labels_, minlength=self.bins)
        self.real_count_ = int(data.shape[0])
        self.real_proportions_ = counts / self.real_count_
        return self

    def score(self, fake: torch.Tensor) -> dict[str, float]:
        """NDB and NDB/bins of generated samples (M, D) against the fitted bins."""
        if self.real_count_ == 0:
            raise CollapsekitError(
                "NumberOfDifferentBins.score() called before fit(); fit it on real samples first"
            )
        fake = check_features(fake, "generated samples", min_rows=1)
        if fake.shape[1] != self.centres_.shape[1]:
            raise CollapsekitError(
                f"generated samples have {fake.shape[1]} columns but the bins were fitted on "
                f"{self.centres_.shape[1]}; use features from the same extractor"
            )
        labels = self._kmeans.predict(fake.detach().to("cpu", torch.float64).numpy())
        fake_proportions = np.bincount(labels, minlength=self.bins) / fake.shape[0]
        self.p_values_ = two_proportion_p_values(
            self.real_proportions_, self.real_count_, fake_proportions, fake.shape[0]
        )
        different = int(np.count_nonzero(self.p_values_ < self.significance))
        return {keys.NDB: different, keys.NDB_FRAC: different / self.bins}


def two_proportion_p_values(
    first: np.ndarray, first_count: int, second: np.ndarray, second_count: int
) -> np.ndarray:
    """Two-sided p-values of pooled two-proportion z-tests, one per bin; 1 where both shares are 0.

    Example:
        >>> float(two_proportion_p_values(np.array([0.5]), 100, np.array([0.5]), 100)[0])
        1.0
    """
    from scipy.stats import norm

    pooled = (first * first_count + second * second_count) / (first_count + second_count)
    error = np.sqrt(pooled * (1 - pooled) * (1 / first_count + 1 / second_count))
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(error > 0, (first - second) / error, 0.0)
    return 2 * norm.sf(np.abs(z))


def ndb(
    real: torch.Tensor,
    fake: torch.Tensor,
    bins: int = DEFAULT_BINS,
    significance: float = DEFAULT_SIGNIFICANCE,
    seed: int = 0,
) -> dict[str, float]:
    """Number of statistically different bins between real (N, D) and generated (M, D) samples.

    Example:
        >>> real = torch.randn(2000, 2)
        >>> ndb(real, real[:, :1].repeat(1, 2), bins=10)["ndb_frac"] > 0.5  # generator on a line
        True
    """
    real, fake = check_feature_pair(real, fake)
    return NumberOfDifferentBins(bins, significance, seed).fit(real).score(fake)
