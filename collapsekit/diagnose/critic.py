"""Rules for a WGAN critic (``observe(..., kind="critic")``): the Wasserstein estimate, not 1/2.

A critic's scores are unbounded and their common offset is free (the WGAN loss
ignores it), so the 1/2-equilibrium rules and D's oscillation do not apply. What
measures the game is the estimate E[C(x)] - E[C(G(z))] (``wasserstein_estimate``):

- ``critic_exploding`` (error): the estimate grows to ``critic_explode_ratio`` times
  its early median (the gradient penalty or clipping no longer holds the critic);
- ``critic_drift`` (warning): the estimate rises steadily (a linear rise explains
  ``critic_drift_min_r2`` of its variance) to ``critic_drift_ratio`` times its early level;
- ``blind_critic`` (warning): the estimate sits near 0 (``critic_zero_share`` of its
  peak) while coverage is low, sustained: the critic no longer sees the collapse.

Example:
    >>> from collapsekit import diagnose
    >>> rows = [{"step": s, "modes_covered": 8, "modes_total": 8, "wasserstein_estimate": 0.1 * 1.5 ** i}
    ...         for i, s in enumerate(range(0, 2000, 100))]
    >>> [finding.name for finding in diagnose(rows)]
    ['critic_exploding']
"""

from __future__ import annotations

import numpy as np

from collapsekit.diagnose.context import Context, below_full, find_stretches, longest_stretch
from collapsekit.diagnose.finding import ERROR, WARNING, Finding
from collapsekit.metrics import keys


def _warm_estimate(context: Context) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Indices, steps and estimates of the warm evaluations with a finite estimate."""
    index = np.flatnonzero(context.warm & np.isfinite(context.estimate))
    return index, context.steps[index], context.estimate[index]


def _early_level(estimate: np.ndarray) -> float:
    """Median |estimate| over the first half of the warm evaluations."""
    return float(np.median(np.abs(estimate[: max(1, len(estimate) // 2)])))


def critic_exploding(context: Context) -> Finding | None:
    """``critic_exploding``: |estimate| at the end is many times its early median."""
    index, steps, estimate = _warm_estimate(context)
    if len(estimate) < 3:
        return None
    early = _early_level(estimate)
    ratio = np.abs(estimate) / early if early > 0 else np.full(len(estimate), np.inf)
    exploding = ratio >= context.limits.critic_explode_ratio
    if not exploding[-1] or early == 0:
        return None
    first = find_stretches(exploding)[-1][0]
    message = (
        f"the critic's Wasserstein estimate grew from about {early:.3g} to {estimate[-1]:.3g} "
        f"({ratio[-1]:.0f}x) between steps {int(steps[0]):,} and {int(steps[-1]):,}: the critic "
        "is exploding (its gradient penalty or clipping no longer holds it)"
    )
    evidence = {"early_estimate": early, keys.WASSERSTEIN_ESTIMATE: float(estimate[-1]),
                "ratio": float(ratio[-1])}  # fmt: skip
    return Finding("critic_exploding", ERROR, int(steps[first]), int(steps[-1]), message, evidence)


def critic_drift(context: Context) -> Finding | None:
    """``critic_drift``: the estimate rises steadily to several times its early level."""
    limits = context.limits
    index, steps, estimate = _warm_estimate(context)
    if len(estimate) < 6 or estimate.var() == 0:
        return None
    slope, intercept = np.polyfit(steps, estimate, 1)
    fitted = slope * steps + intercept
    r2 = 1 - float(((estimate - fitted) ** 2).sum() / ((estimate - estimate.mean()) ** 2).sum())
    start, end = float(fitted[0]), float(fitted[-1])
    rising = slope > 0 and start > 0 and end >= limits.critic_drift_ratio * start
    if not rising or r2 < limits.critic_drift_min_r2:
        return None
    message = (
        f"the critic's Wasserstein estimate rose steadily from {start:.3g} at step "
        f"{int(steps[0]):,} to {end:.3g} at step {int(steps[-1]):,} (R² {r2:.2f} for a straight "
        "line): the critic keeps pulling ahead of the generator"
    )
    evidence = {"start_estimate": start, "end_estimate": end, "r2": r2}
    return Finding("critic_drift", WARNING, int(steps[0]), int(steps[-1]), message, evidence)


def blind_critic(context: Context) -> Finding | None:
    """``blind_critic``: the estimate near 0 while coverage is low, for a sustained stretch."""
    limits = context.limits
    finite = np.where(np.isfinite(context.estimate), np.abs(context.estimate), np.nan)
    if not np.isfinite(finite).any():
        return None
    peak = float(np.nanmax(np.where(context.warm, finite, np.nan), initial=0.0))
    near_zero = finite <= limits.critic_zero_share * peak
    low = below_full(context.state) & (context.score <= limits.blind_max_share + 1e-12)
    stretch = longest_stretch(context.warm & low & near_zero)
    if peak == 0 or stretch is None or stretch[1] - stretch[0] + 1 < limits.sustained_evaluations:
        return None
    first, last = stretch
    mean = float(np.mean(context.estimate[first : last + 1]))
    best = float(np.max(context.score[first : last + 1]))
    start, end = int(context.steps[first]), int(context.steps[last])
    message = (
        f"from step {start:,} to {end:,} the critic's Wasserstein estimate sat near 0 ({mean:.3g}, "
        f"against a peak of {peak:.3g}) while the coverage score was at most {best:.2f}: the "
        "critic no longer sees the collapse"
    )
    evidence = {keys.WASSERSTEIN_ESTIMATE: mean, "peak_estimate": peak, "score": best,
                "evaluations": last - first + 1}  # fmt: skip
    return Finding("blind_critic", WARNING, start, end, message, evidence)
