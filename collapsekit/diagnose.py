"""Diagnosis: turn a run's history into named findings with evidence in numbers.

``diagnose(history, equilibrium)`` reads the rows the Monitor writes (one per
evaluation: coverage metrics and the discriminator's window means) and, when
given, the per-step equilibrium frame (``step, d_real, d_fake``). It returns a
list of :class:`Finding`, most severe first. Each rule is a short function; its
thresholds are fields of :class:`Thresholds`, documented there.

Findings:

- ``diverged`` (error): NaN or inf in the discriminator's outputs or the samples.
- ``collapsed`` (error): the last evaluation covers few modes (known modes), or
  has low coverage / recall, or many NDB bins differ (no known modes).
- ``partial_collapse`` (warning): the last evaluation misses some modes, not most.
- ``mode_hopping`` (warning): the set of covered modes keeps changing between
  evaluations while coverage stays below full.
- ``oscillation`` (warning): coverage or D's outputs swing with a period.
- ``discriminator_dominance`` (warning): D(x) near 1 and D(G(z)) near 0 for a
  sustained stretch: the generator's gradients vanish.
- ``blind_discriminator`` (warning): coverage low while D's outputs sit near 1/2:
  the discriminator no longer sees the collapse.
- ``near_equilibrium`` (info): D(x) and D(G(z)) near 1/2 with full coverage: health.

Example:
    >>> rows = [{"step": s, "modes_covered": 1, "modes_total": 8, "d_real": 0.97, "d_fake": 0.03}
    ...         for s in range(0, 5000, 500)]
    >>> [finding.name for finding in diagnose(rows)]
    ['collapsed', 'discriminator_dominance']
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from collapsekit.errors import CollapsekitError
from collapsekit.metrics import keys

INFO, WARNING, ERROR = "info", "warning", "error"
_SEVERITY_RANK = {ERROR: 0, WARNING: 1, INFO: 2}
FULL, PARTIAL, COLLAPSED = "full", "partial", "collapsed"


@dataclass(frozen=True)
class Finding:
    """One named observation about a run, with the step range and the numbers behind it."""

    name: str  # e.g. "collapsed", "mode_hopping"
    severity: str  # "error", "warning" or "info"
    start_step: int | None  # first step the finding holds at (None: not tied to steps)
    end_step: int | None  # last step it was seen at
    message: str  # one sentence a person reads
    evidence: dict[str, float] = field(default_factory=dict)  # the numbers behind it

    def to_dict(self) -> dict:
        """Plain dict for ``summary.json``: name, severity, start_step, end_step, message, evidence."""
        return {
            "name": self.name,
            "severity": self.severity,
            "start_step": self.start_step,
            "end_step": self.end_step,
            "message": self.message,
            "evidence": dict(self.evidence),
        }

    def __str__(self) -> str:
        return f"{self.name} ({self.severity}): {self.message}"


@dataclass(frozen=True)
class Thresholds:
    """Where each finding starts. Shares are fractions in [0, 1]; D outputs are mean sigmoid(D).

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
    low_quality_frac: float = 0.1  # a collapse message notes when fewer samples than this are good
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
_AT_LEAST_ONE = ("oscillation_min_periods",)  # the only float threshold that is not a share


def _check_threshold(name: str, value: object, kind: str) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise CollapsekitError(f"threshold {name} must be a finite number, got {value!r}")
    if kind == "int" and (not isinstance(value, int) or value < 1):
        raise CollapsekitError(f"threshold {name} must be a positive integer, got {value!r}")
    if kind == "float" and name in _AT_LEAST_ONE and value < 1:
        raise CollapsekitError(f"threshold {name} must be at least 1, got {value!r}")
    if kind == "float" and name not in _AT_LEAST_ONE and not 0 <= value <= 1:
        raise CollapsekitError(f"threshold {name} must lie in [0, 1], got {value!r}")


def diagnose(
    history: pd.DataFrame | Iterable[dict] | None,
    equilibrium: pd.DataFrame | None = None,
    *,
    thresholds: Thresholds | None = None,
    diverged_at: int | None = None,
    **overrides: float,
) -> list[Finding]:
    """Name what is going wrong (or right) in a run, most severe first.

    Args:
        history: one row per evaluation (``Monitor.history``, ``RunDir.read_history()``
            or a list of dicts) with ``step`` and any of the coverage and D columns.
        equilibrium: per-step ``step, d_real, d_fake`` (``Monitor.equilibrium``); finds
            NaN outputs at their exact step and D's oscillations at full resolution.
        thresholds: a :class:`Thresholds`; single ones can also be given by name.
        diverged_at: a step known to have diverged (e.g. NaN losses seen by the trainer).

    Example:
        >>> rows = [{"step": 0, "modes_covered": 8, "modes_total": 8, "d_real": 0.52, "d_fake": 0.48}]
        >>> diagnose(rows)[0].name
        'near_equilibrium'
    """
    limits = (thresholds or Thresholds()).replace(**overrides)
    rows = _history_frame(history)
    steps_frame = _equilibrium_frame(equilibrium)
    findings = []
    divergence = _diverged(rows, steps_frame, diverged_at)
    if divergence is not None:
        findings.append(divergence)
        rows = rows[rows[keys.STEP] < divergence.start_step]
        steps_frame = steps_frame[steps_frame[keys.STEP] < divergence.start_step]
    context = _Context(rows, steps_frame, limits)
    for rule in (_collapse, _mode_hopping, _oscillation, _dominance, _blind, _near_equilibrium):
        finding = rule(context)
        if finding is not None:
            findings.append(finding)
    return sorted(findings, key=lambda f: (_SEVERITY_RANK[f.severity], f.start_step or 0))


# -- inputs ----------------------------------------------------------------------------------


def _history_frame(history: pd.DataFrame | Iterable[dict] | None) -> pd.DataFrame:
    if history is None:
        return pd.DataFrame({keys.STEP: pd.Series(dtype="int64")})
    if not isinstance(history, pd.DataFrame):
        try:
            history = pd.DataFrame(list(history))
        except (TypeError, ValueError):
            raise CollapsekitError(
                f"history must be a DataFrame or a list of dicts (rows), got {type(history).__name__}"
            ) from None
    if len(history) == 0:
        return pd.DataFrame({keys.STEP: pd.Series(dtype="int64")})
    if keys.STEP not in history.columns:
        raise CollapsekitError("history has no 'step' column; pass rows as the Monitor writes them")
    return history.sort_values(keys.STEP, kind="stable").reset_index(drop=True)


def _equilibrium_frame(equilibrium: pd.DataFrame | None) -> pd.DataFrame:
    columns = [keys.STEP, keys.D_REAL, keys.D_FAKE]
    if equilibrium is None:
        return pd.DataFrame({c: pd.Series(dtype="float64") for c in columns})
    if not isinstance(equilibrium, pd.DataFrame) or not set(columns) <= set(equilibrium.columns):
        raise CollapsekitError("equilibrium must be a DataFrame with columns step, d_real, d_fake")
    return equilibrium[columns].sort_values(keys.STEP, kind="stable").reset_index(drop=True)


def _column(rows: pd.DataFrame, name: str) -> np.ndarray:
    """A numeric column as float64 (NaN where missing)."""
    if name not in rows.columns:
        return np.full(len(rows), np.nan)
    return pd.to_numeric(rows[name], errors="coerce").to_numpy(dtype=np.float64)


class _Context:
    """The history prepared once for all rules: coverage score and state per evaluation."""

    def __init__(self, rows: pd.DataFrame, steps_frame: pd.DataFrame, limits: Thresholds) -> None:
        self.rows = rows
        self.steps_frame = steps_frame
        self.limits = limits
        self.steps = _column(rows, keys.STEP)
        self.d_real = _column(rows, keys.D_REAL)
        self.d_fake = _column(rows, keys.D_FAKE)
        self.score, self.source = _coverage_score(rows)
        self.state = _coverage_state(self.score, self.source, limits)
        span = (self.steps[-1] - self.steps[0]) if len(self.steps) else 0.0
        self.warm = self.steps >= (
            self.steps[0] + limits.warmup_fraction * span if len(self.steps) else 0
        )


def _coverage_score(rows: pd.DataFrame) -> tuple[np.ndarray, str | None]:
    """Per evaluation, a coverage score in [0, 1] from the best metric present, and its name."""
    total = _column(rows, keys.MODES_TOTAL)
    covered = _column(rows, keys.MODES_COVERED)
    if np.isfinite(covered).any() and np.isfinite(total).any():
        with np.errstate(invalid="ignore", divide="ignore"):
            return covered / total, "modes"
    for name in (keys.COVERAGE, keys.RECALL):
        values = _column(rows, name)
        if np.isfinite(values).any():
            return values, name
    ndb = _column(rows, keys.NDB_FRAC)
    if np.isfinite(ndb).any():
        return 1.0 - ndb, keys.NDB_FRAC
    return np.full(len(rows), np.nan), None


def _coverage_state(score: np.ndarray, source: str | None, limits: Thresholds) -> np.ndarray:
    collapsed_at, full_at = {
        "modes": (limits.collapsed_mode_share, limits.full_mode_share),
        keys.COVERAGE: (limits.collapsed_coverage, limits.full_coverage),
        keys.RECALL: (limits.collapsed_recall, limits.full_recall),
        keys.NDB_FRAC: (1 - limits.collapsed_ndb_frac, 1 - limits.full_ndb_frac),
        None: (math.nan, math.nan),
    }[source]
    state = np.full(score.shape, None, dtype=object)
    finite = np.isfinite(score)
    # small tolerance: 1 - 0.2 is 0.8000000000000002 in floating point
    state[finite & (score >= full_at - 1e-12)] = FULL
    state[finite & (score < full_at - 1e-12)] = PARTIAL
    state[finite & (score <= collapsed_at + 1e-12)] = COLLAPSED
    return state


def _below_full(state: np.ndarray) -> np.ndarray:
    return np.array([s in (PARTIAL, COLLAPSED) for s in state], dtype=bool)


def _stretches(mask: np.ndarray) -> list[tuple[int, int]]:
    """(first, last) indices, inclusive, of each run of True in ``mask``."""
    found, start = [], None
    for index, value in enumerate(mask):
        if value and start is None:
            start = index
        elif not value and start is not None:
            found.append((start, index - 1))
            start = None
    if start is not None:
        found.append((start, len(mask) - 1))
    return found


def _longest(mask: np.ndarray) -> tuple[int, int] | None:
    stretches = _stretches(mask)
    return max(stretches, key=lambda s: (s[1] - s[0], s[0])) if stretches else None


def _describe(source: str | None, row: pd.Series, score: float) -> str:
    if source == "modes":
        return f"{int(row[keys.MODES_COVERED])} of {int(row[keys.MODES_TOTAL])} modes"
    label = {keys.COVERAGE: "coverage", keys.RECALL: "recall", keys.NDB_FRAC: "NDB bins matching"}
    return f"{label.get(source, 'coverage')} {score:.2f}"


# -- rules -----------------------------------------------------------------------------------


def _diverged(
    rows: pd.DataFrame, steps_frame: pd.DataFrame, diverged_at: int | None
) -> Finding | None:
    candidates = {}
    values = steps_frame[[keys.D_REAL, keys.D_FAKE]].to_numpy(dtype=np.float64)
    bad_steps = steps_frame[keys.STEP].to_numpy()[~np.isfinite(values).all(axis=1)]
    if len(bad_steps):
        candidates["discriminator outputs"] = int(bad_steps[0])
    nonfinite = _column(rows, "nonfinite_frac")
    if (nonfinite > 0).any():
        candidates["generated samples"] = int(_column(rows, keys.STEP)[nonfinite > 0][0])
    if diverged_at is not None:
        candidates["training losses"] = int(diverged_at)
    if not candidates:
        return None
    what, start = min(candidates.items(), key=lambda item: item[1])
    last_steps = [start, *_column(rows, keys.STEP)[-1:], *steps_frame[keys.STEP].to_numpy()[-1:]]
    evidence = {"first_step": start, "nonfinite_outputs": int(len(bad_steps))}
    if (nonfinite > 0).any():
        evidence["nonfinite_sample_frac"] = float(nonfinite[nonfinite > 0][-1])
    message = f"{what} became NaN or inf at step {start:,}; metrics after it are meaningless"
    return Finding("diverged", ERROR, start, int(max(last_steps)), message, evidence)


def _collapse(context: _Context) -> Finding | None:
    final = context.state[-1] if len(context.rows) else None
    if final not in (PARTIAL, COLLAPSED):
        return None
    below = context.state == COLLAPSED
    if final == PARTIAL:
        below = _below_full(context.state)
    start = _stretches(below)[-1][0]
    evidence = _collapse_evidence(context)
    verb = "covers" if context.source == "modes" else "has"
    message = f"{verb} {_describe(context.source, context.rows.iloc[-1], evidence['score'])}"
    if keys.MODES_CAPTURED in evidence:
        message += f" ({evidence[keys.MODES_CAPTURED]} with at least one good sample)"
    message += f" at step {int(context.steps[-1]):,}"
    peak = evidence["peak_step"]
    if evidence["peak_score"] > evidence["score"]:
        best = _describe(
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


def _collapse_evidence(context: _Context) -> dict[str, float]:
    finite = np.where(np.isfinite(context.score), context.score, -np.inf)
    peak = int(np.argmax(finite))  # the first evaluation with the best score
    evidence = {
        "score": float(context.score[-1]),
        "peak_score": float(finite[peak]),
        "peak_step": int(context.steps[peak]),
    }
    for name in (keys.MODES_COVERED, keys.MODES_CAPTURED, keys.MODES_TOTAL, keys.HIGH_QUALITY_FRAC,
                 keys.MODE_KL, keys.COVERAGE, keys.RECALL, keys.NDB_FRAC):  # fmt: skip
        value = _column(context.rows, name)[-1]
        if np.isfinite(value):
            evidence[name] = int(value) if name in _COUNT_KEYS else float(value)
    return evidence


_COUNT_KEYS = (keys.MODES_COVERED, keys.MODES_CAPTURED, keys.MODES_TOTAL)


def _present_modes(context: _Context) -> list[frozenset | None]:
    """Per evaluation, the modes holding ``mode_present_share`` of a uniform split (None: unknown)."""
    if keys.MODE_COUNTS not in context.rows.columns:
        return [None] * len(context.rows)
    samples = _column(context.rows, keys.NUM_SAMPLES)
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


def _mode_hopping(context: _Context) -> Finding | None:
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
        int(_column(context.rows, keys.MODES_TOTAL)[chain[0]])
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


def _oscillation(context: _Context) -> Finding | None:
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
    for name, column in (("D(x)", keys.D_REAL), ("D(G(z))", keys.D_FAKE)):
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


def _d_series(context: _Context, column: str) -> tuple[np.ndarray, np.ndarray]:
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


def _dominance(context: _Context) -> Finding | None:
    limits = context.limits
    mask = (
        context.warm
        & (context.d_real >= limits.dominance_real)
        & (context.d_fake <= limits.dominance_fake)
    )
    stretch = _longest(mask)
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


def _near_half(context: _Context) -> np.ndarray:
    tolerance = context.limits.equilibrium_tolerance + 1e-12
    return (np.abs(context.d_real - 0.5) <= tolerance) & (np.abs(context.d_fake - 0.5) <= tolerance)


def _blind(context: _Context) -> Finding | None:
    limits = context.limits
    low = _below_full(context.state) & (context.score <= limits.blind_max_share + 1e-12)
    stretch = _longest(context.warm & low & _near_half(context))
    if stretch is None or stretch[1] - stretch[0] + 1 < limits.sustained_evaluations:
        return None
    first, last = stretch
    scores = context.score[first : last + 1]
    best = first + int(np.argmax(scores))
    d_real = float(np.mean(context.d_real[first : last + 1]))
    d_fake = float(np.mean(context.d_fake[first : last + 1]))
    start, end = int(context.steps[first]), int(context.steps[last])
    most = _describe(context.source, context.rows.iloc[best], float(context.score[best]))
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


def _near_equilibrium(context: _Context) -> Finding | None:
    healthy = (context.state == FULL) & _near_half(context)
    if not len(healthy) or not healthy[-1]:
        return None
    first = _stretches(healthy)[-1][0]
    last = context.rows.iloc[-1]
    start, end = int(context.steps[first]), int(context.steps[-1])
    d_real, d_fake = float(context.d_real[-1]), float(context.d_fake[-1])
    message = (
        f"D(x)={d_real:.2f} and D(G(z))={d_fake:.2f} near 1/2 with "
        f"{_describe(context.source, last, float(context.score[-1]))}"
        f"{' covered' if context.source == 'modes' else ''} since step {start:,}: healthy"
    )
    evidence = {keys.D_REAL: d_real, keys.D_FAKE: d_fake, "score": float(context.score[-1])}
    return Finding("near_equilibrium", INFO, start, end, message, evidence)
