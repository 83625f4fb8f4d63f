"""Equilibrium rules: ``discriminator_dominance``, ``blind_discriminator``, ``near_equilibrium``."""

from __future__ import annotations

import numpy as np

from collapsekit.diagnose.context import (
    FULL,
    Context,
    below_full,
    describe,
    find_stretches,
    longest_stretch,
)
from collapsekit.diagnose.finding import INFO, WARNING, Finding
from collapsekit.metrics import keys


def dominance(context: Context) -> Finding | None:
    """``discriminator_dominance``: D(x) high and D(G(z)) low for a sustained stretch."""
    limits = context.limits
    mask = (
        context.warm
        & (context.d_real >= limits.dominance_real)
        & (context.d_fake <= limits.dominance_fake)
    )
    stretch = longest_stretch(mask)
    if stretch is None or stretch[1] - stretch[0] + 1 < limits.sustained_evaluations:
        return None
    first, last = stretch
    d_real = float(np.mean(context.d_real[first : last + 1]))
    d_fake = float(np.mean(context.d_fake[first : last + 1]))
    start, end = int(context.steps[first]), int(context.steps[last])
    message = (
        f"D(x)={d_real:.2f} and D(G(z))={d_fake:.2f} from step {start:,} to {end:,}: the "
        "discriminator dominates and the generator's gradients vanish"
    )
    evidence = {keys.D_REAL: d_real, keys.D_FAKE: d_fake, "evaluations": last - first + 1}
    return Finding("discriminator_dominance", WARNING, start, end, message, evidence)


def _near_half(context: Context) -> np.ndarray:
    tolerance = context.limits.equilibrium_tolerance + 1e-12
    return (np.abs(context.d_real - 0.5) <= tolerance) & (np.abs(context.d_fake - 0.5) <= tolerance)


def blind(context: Context) -> Finding | None:
    """``blind_discriminator``: coverage low while D's outputs sit near 1/2, sustained."""
    limits = context.limits
    low = below_full(context.state) & (context.score <= limits.blind_max_share + 1e-12)
    stretch = longest_stretch(context.warm & low & _near_half(context))
    if stretch is None or stretch[1] - stretch[0] + 1 < limits.sustained_evaluations:
        return None
    first, last = stretch
    scores = context.score[first : last + 1]
    best = first + int(np.argmax(scores))
    d_real = float(np.mean(context.d_real[first : last + 1]))
    d_fake = float(np.mean(context.d_fake[first : last + 1]))
    start, end = int(context.steps[first]), int(context.steps[last])
    most = describe(context.source, context.rows.iloc[best], float(context.score[best]))
    most = f"at most {most} were covered" if context.source == "modes" else f"the best was {most}"
    message = (
        f"from step {start:,} to {end:,} {most} while D(x)={d_real:.2f} and "
        f"D(G(z))={d_fake:.2f} sat near 1/2: the discriminator no longer sees the collapse"
    )
    evidence = {
        "score": float(np.mean(scores)),
        "peak_score": float(context.score[best]),
        keys.D_REAL: d_real,
        keys.D_FAKE: d_fake,
        "evaluations": last - first + 1,
    }
    return Finding("blind_discriminator", WARNING, start, end, message, evidence)


def near_equilibrium(context: Context) -> Finding | None:
    """``near_equilibrium``: full coverage and D near 1/2 at the last evaluation."""
    healthy = (context.state == FULL) & _near_half(context)
    if not len(healthy) or not healthy[-1]:
        return None
    first = find_stretches(healthy)[-1][0]
    last = context.rows.iloc[-1]
    start, end = int(context.steps[first]), int(context.steps[-1])
    d_real, d_fake = float(context.d_real[-1]), float(context.d_fake[-1])
    message = (
        f"D(x)={d_real:.2f} and D(G(z))={d_fake:.2f} near 1/2 with "
        f"{describe(context.source, last, float(context.score[-1]))}"
        f"{' covered' if context.source == 'modes' else ''} since step {start:,}: healthy"
    )
    evidence = {keys.D_REAL: d_real, keys.D_FAKE: d_fake, "score": float(context.score[-1])}
    return Finding("near_equilibrium", INFO, start, end, message, evidence)
