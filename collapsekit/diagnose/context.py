"""The history prepared once for all rules: inputs checked, coverage score and state per evaluation."""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np
import pandas as pd

from collapsekit.diagnose.thresholds import Thresholds
from collapsekit.errors import CollapsekitError
from collapsekit.metrics import keys

FULL, PARTIAL, COLLAPSED = "full", "partial", "collapsed"


def history_frame(history: pd.DataFrame | Iterable[dict] | None) -> pd.DataFrame:
    """History rows (a frame or dicts) as a frame sorted by step; CollapsekitError if unusable."""
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


PROBABILITY_COLUMNS = [keys.STEP, keys.D_REAL, keys.D_FAKE]
CRITIC_COLUMNS = [keys.STEP, keys.CRITIC_REAL, keys.CRITIC_FAKE]


def equilibrium_frame(equilibrium: pd.DataFrame | None) -> pd.DataFrame:
    """Per-step ``step, d_real, d_fake`` (or ``step, critic_real, critic_fake``) sorted by step
    (empty when None)."""
    if equilibrium is None:
        return pd.DataFrame({c: pd.Series(dtype="float64") for c in PROBABILITY_COLUMNS})
    columns = next(
        (c for c in (PROBABILITY_COLUMNS, CRITIC_COLUMNS)
         if isinstance(equilibrium, pd.DataFrame) and set(c) <= set(equilibrium.columns)),
        None,
    )  # fmt: skip
    if columns is None:
        raise CollapsekitError(
            "equilibrium must be a DataFrame with columns step, d_real, d_fake "
            "(or step, critic_real, critic_fake)"
        )
    return equilibrium[columns].sort_values(keys.STEP, kind="stable").reset_index(drop=True)


def numeric_column(rows: pd.DataFrame, name: str) -> np.ndarray:
    """A numeric column as float64 (NaN where missing)."""
    if name not in rows.columns:
        return np.full(len(rows), np.nan)
    return pd.to_numeric(rows[name], errors="coerce").to_numpy(dtype=np.float64)


class Context:
    """The history prepared once for all rules: coverage score and state per evaluation."""

    def __init__(self, rows: pd.DataFrame, steps_frame: pd.DataFrame, limits: Thresholds) -> None:
        self.rows = rows
        self.steps_frame = steps_frame
        self.limits = limits
        self.steps = numeric_column(rows, keys.STEP)
        self.d_real = numeric_column(rows, keys.D_REAL)
        self.d_fake = numeric_column(rows, keys.D_FAKE)
        # a WGAN critic's raw scores: the 1/2-equilibrium rules do not apply to them
        self.critic = keys.CRITIC_REAL in steps_frame.columns or keys.WASSERSTEIN_ESTIMATE in rows
        self.estimate = numeric_column(rows, keys.WASSERSTEIN_ESTIMATE)
        self.score, self.source = coverage_score(rows)
        self.state = coverage_state(self.score, self.source, limits)
        span = (self.steps[-1] - self.steps[0]) if len(self.steps) else 0.0
        self.warm = self.steps >= (
            self.steps[0] + limits.warmup_fraction * span if len(self.steps) else 0
        )


def coverage_score(rows: pd.DataFrame) -> tuple[np.ndarray, str | None]:
    """Per evaluation, a coverage score in [0, 1] from the best metric present, and its name."""
    total = numeric_column(rows, keys.MODES_TOTAL)
    covered = numeric_column(rows, keys.MODES_COVERED)
    if np.isfinite(covered).any() and np.isfinite(total).any():
        with np.errstate(invalid="ignore", divide="ignore"):
            return covered / total, "modes"
    for name in (keys.COVERAGE, keys.RECALL):
        values = numeric_column(rows, name)
        if np.isfinite(values).any():
            return values, name
    ndb = numeric_column(rows, keys.NDB_FRAC)
    if np.isfinite(ndb).any():
        return 1.0 - ndb, keys.NDB_FRAC
    return np.full(len(rows), np.nan), None


def coverage_state(score: np.ndarray, source: str | None, limits: Thresholds) -> np.ndarray:
    """Per evaluation FULL, PARTIAL, COLLAPSED (or None without a score), by the source's thresholds."""
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


def below_full(state: np.ndarray) -> np.ndarray:
    """Whether each evaluation is PARTIAL or COLLAPSED."""
    return np.array([s in (PARTIAL, COLLAPSED) for s in state], dtype=bool)


def find_stretches(mask: np.ndarray) -> list[tuple[int, int]]:
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


def longest_stretch(mask: np.ndarray) -> tuple[int, int] | None:
    """The longest (first, last) run of True in ``mask`` (the earliest on ties), or None."""
    found = find_stretches(mask)
    return max(found, key=lambda s: (s[1] - s[0], s[0])) if found else None


def describe(source: str | None, row: pd.Series, score: float) -> str:
    """The coverage of one evaluation in words: ``3 of 8 modes`` or ``coverage 0.42``."""
    if source == "modes":
        return f"{int(row[keys.MODES_COVERED])} of {int(row[keys.MODES_TOTAL])} modes"
    label = {keys.COVERAGE: "coverage", keys.RECALL: "recall", keys.NDB_FRAC: "NDB bins matching"}
    return f"{label.get(source, 'coverage')} {score:.2f}"
