"""Modes over time: ``mode_hopping`` (the covered set keeps changing) and ``oscillation`` (a period)."""

from __future__ import annotations

import math

import numpy as np

from collapsekit.diagnose.context import COLLAPSED, PARTIAL, Context, numeric_column
from collapsekit.diagnose.finding import WARNING, Finding
from collapsekit.diagnose.thresholds import Thresholds
from collapsekit.metrics import keys


def _present_modes(context: Context) -> list[frozenset | None]:
    """Per evaluation, the modes holding ``mode_present_share`` of a uniform split (None: unknown)."""
    if keys.MODE_COUNTS not in context.rows.columns:
        return [None] * len(context.rows)
    samples = numeric_column(context.rows, keys.NUM_SAMPLES)
    present = []
    for counts, total in zip(context.rows[keys.MODE_COUNTS], samples, strict=True):
        if not isinstance(counts, (list, tuple, np.ndarray)) or len(counts) == 0:
            present.append(None)
            continue
        counts = np.asarray(counts, dtype=np.float64)
        total = total if np.isfinite(total) and total > 0 else counts.sum()
        needed = context.limits.mode_present_share * total / len(counts)
        present.append(frozenset(np.flatnonzero((counts >= needed) & (counts > 0)).tolist()))
    return present


def mode_hopping(context: Context) -> Finding | None:
    """``mode_hopping`` when the present modes keep changing while coverage is below full."""
    limits = context.limits
    present = _present_modes(context)
    # consecutive low-coverage evaluations that hold modes; empty sets are skipped, not hops
    chain = [i for i, modes in enumerate(present)
             if modes and context.warm[i] and context.state[i] in (PARTIAL, COLLAPSED)]  # fmt: skip
    pairs = list(zip(chain, chain[1:], strict=False))
    hops = [
        (a, b) for a, b in pairs if _jaccard_distance(present[a], present[b]) >= limits.hop_distance
    ]
    if len(hops) < limits.hopping_min_hops or len(hops) < limits.hopping_min_rate * len(pairs):
        return None
    visited = frozenset().union(*(present[i] for i in chain))
    sizes = [len(present[i]) for i in chain]
    total = (
        int(numeric_column(context.rows, keys.MODES_TOTAL)[chain[0]])
        if keys.MODES_TOTAL in context.rows
        else len(visited)
    )
    start, end = int(context.steps[hops[0][0]]), int(context.steps[hops[-1][1]])
    message = (
        f"the covered modes changed at {len(hops)} of {len(pairs)} consecutive evaluations "
        f"between steps {start:,} and {end:,} while at most {max(sizes)} of {total} modes were "
        f"covered at once; {len(visited)} different modes were visited"
    )
    evidence = {
        "hops": len(hops),
        "pairs": len(pairs),
        "hop_rate": len(hops) / len(pairs),
        "modes_visited": len(visited),
        "median_modes_present": float(np.median(sizes)),
        keys.MODES_TOTAL: total,
    }
    return Finding("mode_hopping", WARNING, start, end, message, evidence)


def _jaccard_distance(first: frozenset, second: frozenset) -> float:
    union = first | second
    return 1.0 - len(first & second) / len(union) if union else 0.0


def oscillation(context: Context) -> Finding | None:
    """``oscillation`` when coverage or D's outputs swing with a period (the strongest one)."""
    limits = context.limits
    candidates = []
    warm = context.warm
    if context.source is not None and warm.sum() > 0:
        candidates.append(
            (
                "coverage",
                context.steps[warm],
                context.score[warm],
                limits.oscillation_min_coverage_amplitude,
            )
        )
    # a critic's scores have a free offset that may drift or swing harmlessly: coverage only
    d_series = () if context.critic else (("D(x)", keys.D_REAL), ("D(G(z))", keys.D_FAKE))
    for name, column in d_series:
        steps, values = _d_series(context, column)
        candidates.append((name, steps, values, limits.oscillation_min_d_amplitude))
    best = None
    for name, steps, values, min_amplitude in candidates:
        found = _periodicity(steps, values, min_amplitude, limits)
        if found is not None and (
            best is None or found["autocorrelation"] > best[1]["autocorrelation"]
        ):
            best = (name, found, steps)
    if best is None:
        return None
    name, found, steps = best
    message = (
        f"{name} swings with a period of about {found['period_steps']:,.0f} steps "
        f"(amplitude {found['amplitude']:.2f}, autocorrelation {found['autocorrelation']:.2f} at one period)"
    )
    return Finding("oscillation", WARNING, int(steps[0]), int(steps[-1]), message, found)


def _d_series(context: Context, column: str) -> tuple[np.ndarray, np.ndarray]:
    """D's per-step means after warm-up, block-averaged to at most 512 points; else the history's."""
    frame = context.steps_frame
    if len(frame) >= 16:
        steps = frame[keys.STEP].to_numpy(dtype=np.float64)
        values = frame[column].to_numpy(dtype=np.float64)
        keep = steps >= steps[0] + context.limits.warmup_fraction * (steps[-1] - steps[0])
        steps, values = steps[keep], values[keep]
        block = max(1, math.ceil(len(values) / 512))
        usable = len(values) // block * block
        return steps[:usable:block], values[:usable].reshape(-1, block).mean(axis=1)
    values = context.d_real if column == keys.D_REAL else context.d_fake
    return context.steps[context.warm], values[context.warm]


def _periodicity(
    steps: np.ndarray, values: np.ndarray, min_amplitude: float, limits: Thresholds
) -> dict[str, float] | None:
    """Period of a detrended series from its autocorrelation's first peak after a negative dip."""
    finite = np.isfinite(values)
    steps, values = steps[finite], values[finite]
    if len(values) < 2 * limits.oscillation_min_periods + 1:
        return None
    index = np.arange(len(values), dtype=np.float64)
    residual = values - np.polyval(np.polyfit(index, values, 1), index)
    amplitude = float(np.percentile(residual, 95) - np.percentile(residual, 5)) / 2
    if amplitude < min_amplitude or residual.var() == 0:
        return None
    acf = np.correlate(residual, residual, mode="full")[len(values) - 1 :] / (
        residual.var() * len(values)
    )
    max_lag = int(len(values) / limits.oscillation_min_periods)
    dipped = False
    for lag in range(1, max_lag + 1):
        dipped = dipped or acf[lag] < 0
        is_peak = acf[lag] >= acf[lag - 1] and (lag + 1 >= len(acf) or acf[lag] >= acf[lag + 1])
        if dipped and is_peak and acf[lag] >= limits.oscillation_min_autocorrelation:
            spacing = float(np.median(np.diff(steps)))
            return {"period_steps": lag * spacing, "amplitude": amplitude, "autocorrelation": float(acf[lag]),
                    "periods": len(values) / lag}  # fmt: skip
    return None
