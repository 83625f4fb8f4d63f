"""Coverage rules from the last evaluation: ``collapsed``, ``partial_collapse``, ``low_quality``.

``collapsed`` (and ``partial_collapse``) mean too few modes, or too little recall
or coverage. ``low_quality`` means the samples reach the modes (most modes
reached by nearest-mode counts, or high recall or coverage) but few of them are
good (high-quality share or precision low): blurry, not collapsed.
"""

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
    blurry = low_quality(context)
    if blurry is not None:
        return blurry
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
    message += _reach_note(evidence)
    name, severity = ("collapsed", ERROR) if final == COLLAPSED else ("partial_collapse", WARNING)
    return Finding(
        name, severity, int(context.steps[start]), int(context.steps[-1]), message, evidence
    )


def low_quality(context: Context) -> Finding | None:
    """``low_quality`` when the last evaluation reaches the modes but few samples are good."""
    limits, last = context.limits, len(context.rows) - 1
    value = {name: numeric_column(context.rows, name)[last] for name in _QUALITY_KEYS}
    reached, total = value[keys.MODES_REACHED], value[keys.MODES_TOTAL]
    quality, precision = value[keys.HIGH_QUALITY_FRAC], value[keys.PRECISION]
    if context.source == "modes" and reached >= limits.reached_mode_share * total:
        spread = f"samples spread over the modes ({int(reached)} of {int(total)} reached)"
        if not quality < limits.low_quality_frac:
            return None
        few = f"only {quality:.1%} lie near one (within the high-quality radius)"
    elif value[keys.RECALL] >= limits.full_recall or value[keys.COVERAGE] >= limits.full_coverage:
        spread = f"samples spread over the real data (recall {value[keys.RECALL]:.2f}, coverage {value[keys.COVERAGE]:.2f})"
        if not precision < limits.low_precision:
            return None
        few = f"only {precision:.1%} lie on it (precision)"
    else:
        return None
    step = int(context.steps[last])
    message = f"{spread} but {few} at step {step:,}: blurry samples, not a collapse"
    start = find_stretches(below_full(context.state))[-1][0]
    evidence = {k: float(v) for k, v in value.items() if np.isfinite(v)}
    return Finding("low_quality", WARNING, int(context.steps[start]), step, message, evidence)


_QUALITY_KEYS = (keys.MODES_REACHED, keys.MODES_TOTAL, keys.MODES_COVERED, keys.HIGH_QUALITY_FRAC,
                 keys.PRECISION, keys.RECALL, keys.COVERAGE, keys.DENSITY)  # fmt: skip


def _reach_note(evidence: dict) -> str:
    """Why it is a collapse and not blur, in numbers: modes reached at all, good or precise share."""
    quality = evidence.get(keys.HIGH_QUALITY_FRAC)
    if keys.MODES_REACHED in evidence:
        note = f"; a collapse, not blur: samples reach only {evidence[keys.MODES_REACHED]} of {evidence[keys.MODES_TOTAL]} modes at all"
        return note + (f" and {quality:.1%} lie near one" if quality is not None else "")
    if quality is not None:
        return f"; {quality:.1%} of samples lie near a mode"
    if keys.PRECISION in evidence:
        return f"; a collapse, not blur: precision {evidence[keys.PRECISION]:.2f}"
    return ""


def _collapse_evidence(context: Context) -> dict[str, float]:
    finite = np.where(np.isfinite(context.score), context.score, -np.inf)
    peak = int(np.argmax(finite))  # the first evaluation with the best score
    evidence = {
        "score": float(context.score[-1]),
        "peak_score": float(finite[peak]),
        "peak_step": int(context.steps[peak]),
    }
    for name in (keys.MODES_COVERED, keys.MODES_CAPTURED, keys.MODES_REACHED, keys.MODES_TOTAL,
                 keys.HIGH_QUALITY_FRAC, keys.MODE_KL, keys.COVERAGE, keys.RECALL, keys.PRECISION,
                 keys.NDB_FRAC):  # fmt: skip
        value = numeric_column(context.rows, name)[-1]
        if np.isfinite(value):
            evidence[name] = int(value) if name in _COUNT_KEYS else float(value)
    return evidence


_COUNT_KEYS = (keys.MODES_COVERED, keys.MODES_CAPTURED, keys.MODES_REACHED, keys.MODES_TOTAL)
