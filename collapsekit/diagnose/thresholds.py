"""Diagnosis thresholds: where each finding starts, as named, documented, validated fields."""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

from collapsekit.errors import CollapsekitError


@dataclass(frozen=True)
class Thresholds:
    """Where each finding starts. Shares are fractions in [0, 1]; D outputs are mean sigmoid(D);
    ratios (``oscillation_min_periods``, ``critic_*_ratio``) are at least 1.

    The *coverage score* of an evaluation is ``modes_covered / modes_total`` for data
    with known modes, else Naeem ``coverage``, else ``recall``, else ``1 - ndb_frac``.

    Example:
        >>> Thresholds(dominance_real=0.9).dominance_real
        0.9
    """

    # Collapse with known modes: share of modes covered (modes_covered / modes_total).
    collapsed_mode_share: float = 0.25  # at or below: collapsed (ring8: 2 of 8 or fewer)
    full_mode_share: float = 1.0  # below (and above collapsed): partial collapse
    # Collapse without known modes, first metric present wins: coverage, recall, NDB.
    collapsed_coverage: float = 0.25  # Naeem coverage at or below: collapsed (~0.97 for equal data)
    full_coverage: float = 0.8  # coverage below: partial collapse
    collapsed_recall: float = 0.25  # Kynkaanniemi recall at or below: collapsed
    full_recall: float = 0.6  # recall below: partial collapse
    collapsed_ndb_frac: float = 0.5  # share of NDB bins that differ, at or above: collapsed
    full_ndb_frac: float = 0.2  # above: partial collapse (equal data: about the test's 0.05)
    # Blurry, not collapsed: the modes are reached but few samples are good (``low_quality``).
    low_quality_frac: float = 0.1  # high-quality share below this is low quality
    reached_mode_share: float = 0.9  # modes_reached / modes_total at or above: modes reached
    low_precision: float = 0.25  # precision below this is low quality (data without known modes)
    # Mode hopping: a mode is present when it holds this share of a uniform split of all samples
    # (the robust ``modes_covered`` rule); a hop is a Jaccard distance of the present sets of two
    # consecutive evaluations with modes at or above ``hop_distance``.
    mode_present_share: float = 0.1
    hop_distance: float = 0.5
    hopping_min_hops: int = 3
    hopping_min_rate: float = 0.5  # hops / consecutive pairs of low-coverage evaluations
    # Oscillation: a detrended series whose autocorrelation peaks again at a lag (the period).
    oscillation_min_autocorrelation: float = 0.4
    oscillation_min_periods: float = 3.0  # the series must hold this many periods
    oscillation_min_coverage_amplitude: float = 0.15  # half the 5-95% range of the coverage score
    oscillation_min_d_amplitude: float = 0.05  # the same for D's outputs, in sigmoid(D) units
    # Discriminator.
    dominance_real: float = 0.8  # D(x) at or above ...
    dominance_fake: float = 0.2  # ... and D(G(z)) at or below: D dominates
    equilibrium_tolerance: float = 0.1  # |D - 1/2| at most this: near equilibrium
    blind_max_share: float = 0.5  # coverage score at or below this counts as low for blindness
    sustained_evaluations: int = 3  # consecutive evaluations that make a stretch sustained
    warmup_fraction: float = 0.1  # dynamics findings ignore this first share of the run's steps
    # A WGAN critic (observe(kind="critic")): rules on the Wasserstein estimate E[C(x)] - E[C(G(z))].
    critic_explode_ratio: float = 10.0  # |estimate| this many times its early median: exploding
    critic_drift_ratio: float = 2.0  # a steady rise to this many times its early level: drifting
    critic_drift_min_r2: float = 0.8  # share of the estimate's variance a linear rise must explain
    critic_zero_share: float = 0.1  # |estimate| at most this share of its peak: near 0

    def __post_init__(self) -> None:
        for item in dataclasses.fields(self):
            _check_threshold(item.name, getattr(self, item.name), item.type)
        for collapsed, full in _ORDERED_PAIRS:
            if getattr(self, collapsed) > getattr(self, full):
                raise CollapsekitError(
                    f"threshold {collapsed}={getattr(self, collapsed)} must not exceed "
                    f"{full}={getattr(self, full)}"
                )

    def replace(self, **overrides: float) -> Thresholds:
        """A copy with some thresholds changed; unknown names raise CollapsekitError."""
        valid = {item.name for item in dataclasses.fields(self)}
        unknown = sorted(set(overrides) - valid)
        if unknown:
            raise CollapsekitError(
                f"unknown threshold(s) {', '.join(unknown)}; valid: {', '.join(sorted(valid))}"
            )
        return dataclasses.replace(self, **overrides)


_ORDERED_PAIRS = (
    ("collapsed_mode_share", "full_mode_share"),
    ("collapsed_coverage", "full_coverage"),
    ("collapsed_recall", "full_recall"),
    ("full_ndb_frac", "collapsed_ndb_frac"),
)
# the float thresholds that are not shares
_AT_LEAST_ONE = ("oscillation_min_periods", "critic_explode_ratio", "critic_drift_ratio")


def _check_threshold(name: str, value: object, kind: str) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise CollapsekitError(f"threshold {name} must be a finite number, got {value!r}")
    if kind == "int" and (not isinstance(value, int) or value < 1):
        raise CollapsekitError(f"threshold {name} must be a positive integer, got {value!r}")
    if kind == "float" and name in _AT_LEAST_ONE and value < 1:
        raise CollapsekitError(f"threshold {name} must be at least 1, got {value!r}")
    if kind == "float" and name not in _AT_LEAST_ONE and not 0 <= value <= 1:
        raise CollapsekitError(f"threshold {name} must lie in [0, 1], got {value!r}")
