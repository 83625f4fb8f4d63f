"""Verdicts of the reproduction report: does our measurement reproduce a published number?

Three verdicts, tested in this order:

- ``reproduced``: the published value lies inside our 95% t-interval over seeds,
  widened on each side by the published error (its standard error; 0 when the
  paper gives none).
- ``ordering reproduced``: against every other method of the same table, dataset
  and metric that we ran, and that the paper ranks apart (published values
  further apart than the sum of their errors), our 95% intervals are separated in
  the published direction. Methods the paper does not rank apart impose nothing.
- ``not reproduced``: anything else, with a note built from the numbers.

A number measured on another dataset than ours (PacGAN Table 3 on MNIST digits
beside our stacked-digits runs) is never ``reproduced``: only its ordering compares.

Example:
    >>> ours = Estimate(mean=6.0, low=5.5, high=6.5, n=5)
    >>> published_inside(6.3, 0.5, ours), published_inside(7.9, 0.1, ours)
    (True, False)
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from collapsekit.report.display import PERCENT, format_half_width, format_value
from collapsekit.report.tables import confidence_interval

REPRODUCED = "reproduced"
ORDERING_REPRODUCED = "ordering reproduced"
NOT_REPRODUCED = "not reproduced"
VERDICTS = (REPRODUCED, ORDERING_REPRODUCED, NOT_REPRODUCED)


@dataclass(frozen=True)
class Estimate:
    """Our mean over seeds with its 95% t-interval; ``n`` finite values (NaN bounds if n < 2)."""

    mean: float
    low: float
    high: float
    n: int

    @classmethod
    def of(cls, values) -> Estimate:
        """The estimate of ``values`` (NaN and None are left out).

        Example:
            >>> Estimate.of([2.0, 4.0, 6.0]).n
            3
        """
        return cls(*confidence_interval(values))

    @property
    def has_interval(self) -> bool:
        return self.n >= 2 and math.isfinite(self.low) and math.isfinite(self.high)


@dataclass(frozen=True)
class Rival:
    """Another method of the same table, dataset and metric: its published number and ours."""

    method: str
    published: float
    published_error: float | None
    ours: Estimate | None  # None: no runs of it


def published_inside(value: float, error: float | None, ours: Estimate) -> bool:
    """Whether ``value`` lies in our interval widened by ``error`` on each side."""
    widen = error or 0.0
    return ours.has_interval and ours.low - widen <= value <= ours.high + widen


def published_order(value: float, error: float | None, other: float, other_error: float | None) -> int:
    """+1 or -1 when the paper ranks the two apart (gap larger than both errors), else 0."""
    if abs(value - other) <= (error or 0.0) + (other_error or 0.0):
        return 0
    return 1 if value > other else -1


def our_order(ours: Estimate, other: Estimate) -> int | None:
    """+1 or -1 when our intervals are separated, 0 when they overlap, None without intervals."""
    if not (ours.has_interval and other.has_interval):
        return None
    if ours.low > other.high:
        return 1
    return -1 if ours.high < other.low else 0


def verdict(
    metric: str,
    published: float,
    error: float | None,
    ours: Estimate,
    rivals: list[Rival],
    measured_on: str = "",
) -> tuple[str, str]:
    """The verdict on one published number and a one-line note holding the numbers behind it.

    ``measured_on`` names the paper's data when it is not ours (``"MNIST digits"``):
    then only the ordering is judged, never the value.

    Example:
        >>> ours = Estimate(30.0, 20.0, 40.0, 3)
        >>> verdict("modes_captured", 30.6, 20.73, ours, [], measured_on="MNIST digits")[0]
        'not reproduced'
    """
    if ours.n == 0:
        return NOT_REPRODUCED, "no finite value in the finished runs"
    value_text = _value_text(metric, published, error, ours)
    if not ours.has_interval:
        return NOT_REPRODUCED, f"{value_text}; one finished run gives no 95% interval"
    if not measured_on and published_inside(published, error, ours):
        return REPRODUCED, ""
    where = f"{value_text} on {measured_on}" if measured_on else f"{value_text} (outside the widened interval)"
    checks = [_ordering_check(metric, published, error, ours, rival) for rival in rivals]
    checks = [check for check in checks if check is not None]
    failures = [text for holds, text in checks if not holds]
    if checks and not failures:
        return ORDERING_REPRODUCED, f"{where}; " + ", ".join(text for _, text in checks)
    reasons = failures or ["no other method ranked apart by the paper has runs to compare"]
    return NOT_REPRODUCED, f"{where}; " + "; ".join(reasons)


def _ordering_check(
    metric: str, published: float, error: float | None, ours: Estimate, rival: Rival
) -> tuple[bool, str] | None:
    """(holds, text) for one rival the paper ranks apart and we ran; None otherwise."""
    expected = published_order(published, error, rival.published, rival.published_error)
    if expected == 0 or rival.ours is None or rival.ours.n == 0:
        return None
    side = "above" if expected > 0 else "below"
    found = our_order(ours, rival.ours)
    rival_text = f"{rival.method}'s {interval_text(metric, rival.ours)}"
    if found == expected:
        return True, f"{side} {rival_text} as published"
    what = {0: "overlaps", None: "has no interval beside", -expected: "is on the other side of"}
    return False, f"published {side} {rival.method}, ours {what[found]} {rival_text}"


def _value_text(metric: str, published: float, error: float | None, ours: Estimate) -> str:
    shown = format_value(metric, published) + _unit(metric)
    if error is not None:
        shown += f" ± {format_half_width(metric, error)}"
    return f"ours {interval_text(metric, ours)} vs published {shown}"


def interval_text(metric: str, estimate: Estimate) -> str:
    """``6.2 [5.6, 6.8]`` in the metric's display unit (high quality in percent: ``95.1% [...]``).

    Example:
        >>> interval_text("modes_captured", Estimate(6.2, 5.6, 6.8, 5))
        '6.2 [5.6, 6.8]'
    """
    text = format_value(metric, estimate.mean) + _unit(metric)
    if estimate.has_interval:
        text += f" {bracket(metric, estimate)}"
    return text


def bracket(metric: str, estimate: Estimate) -> str:
    """The interval alone, ``[5.6, 6.8]``; "" without one."""
    if not estimate.has_interval:
        return ""
    return f"[{format_value(metric, estimate.low)}, {format_value(metric, estimate.high)}]"


def _unit(metric: str) -> str:
    return "%" if metric in PERCENT else ""
