"""Coverage rules: ``collapsed`` and ``partial_collapse`` from the last evaluation's coverage score."""

from __future__ import annotations

import numpy as np

from collapsekit.diagnose.context import (
    COLLAPSED,
    PARTIAL,
    Context,
    below_full,
    describe,
    find_stretches,
    numeric_column,
)
from collapsekit.diagnose.finding import ERROR, WARNING, Finding
from collapsekit.metrics import keys


def collapse(context: Context) -> Finding | None:
    """``collapsed`` or ``partial_collapse`` when the last evaluation is below full coverage."""
    final = context.state[-1] if len(context.rows) else None
    if final not in (PARTIAL, COLLAPSED):
        return None
    below = context.state == COLLAPSED
    if final == PARTIAL:
        below = below_full(context.state)
    start = find_stretches(below)[-1][0]
    evidence = _collapse_evidence(context)
    verb = "covers" if context.source == "modes" else "has"
    message = f"{verb} {describe(context.source, context.rows.iloc[-1], evidence['score'])}"
    if keys.MODES_CAPTURED in evidence:
        message += f" ({evidence[keys.MODES_CAPTURED]} with at least one good sample)"
    message += f" at step {int(context.steps[-1]):,}"
    peak = evidence["peak_step"]
    if evidence["peak_score"] > evidence["score"]:
        best = describe(
            context.source,
            context.rows.iloc[int(np.argmax(context.steps == peak))],
            evidence["peak_score"],
        )
        message += f", down from {best} at step {peak:,}"
    else:
        message += "; it never covered more"
    if start > 0:
        message += f"; below the threshold since step {int(context.steps[start]):,}"
    quality = evidence.get(keys.HIGH_QUALITY_FRAC)
    if quality is not None and quality < context.limits.low_quality_frac:
        message += f"; only {quality:.1%} of samples lie near any mode"
    name, severity = ("collapsed", ERROR) if final == COLLAPSED else ("partial_collapse", WARNING)
    return Finding(
        name, severity, int(context.steps[start]), int(context.steps[-1]), message, evidence
    )


def _collapse_evidence(context: Context) -> dict[str, float]:
    finite = np.where(np.isfinite(context.score), context.score, -np.inf)
    peak = int(np.argmax(finite))  # the first evaluation with the best score
    evidence = {
        "score": float(context.score[-1]),
        "peak_score": float(finite[peak]),
        "peak_step": int(context.steps[peak]),
    }
    for name in (keys.MODES_COVERED, keys.MODES_CAPTURED, keys.MODES_TOTAL, keys.HIGH_QUALITY_FRAC,
                 keys.MODE_KL, keys.COVERAGE, keys.RECALL, keys.NDB_FRAC):  # fmt: skip
        value = numeric_column(context.rows, name)[-1]
        if np.isfinite(value):
            evidence[name] = int(value) if name in _COUNT_KEYS else float(value)
    return evidence


_COUNT_KEYS = (keys.MODES_COVERED, keys.MODES_CAPTURED, keys.MODES_TOTAL)
