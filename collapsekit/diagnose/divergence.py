"""The ``diverged`` rule: NaN or inf in the discriminator's outputs, the samples or the losses."""

from __future__ import annotations

import numpy as np
import pandas as pd

from collapsekit.diagnose.context import numeric_column
from collapsekit.diagnose.finding import ERROR, Finding
from collapsekit.metrics import keys


def diverged(
    rows: pd.DataFrame, steps_frame: pd.DataFrame, diverged_at: int | None
) -> Finding | None:
    """``diverged`` at the first step with NaN or inf in D's outputs, samples or losses."""
    candidates = {}
    values = steps_frame[steps_frame.columns[1:3]].to_numpy(dtype=np.float64)
    bad_steps = steps_frame[keys.STEP].to_numpy()[~np.isfinite(values).all(axis=1)]
    if len(bad_steps):
        critic = keys.CRITIC_REAL in steps_frame.columns
        candidates["critic scores" if critic else "discriminator outputs"] = int(bad_steps[0])
    nonfinite = numeric_column(rows, "nonfinite_frac")
    if (nonfinite > 0).any():
        candidates["generated samples"] = int(numeric_column(rows, keys.STEP)[nonfinite > 0][0])
    if diverged_at is not None:
        candidates["training losses"] = int(diverged_at)
    if not candidates:
        return None
    what, start = min(candidates.items(), key=lambda item: item[1])
    last_steps = [
        start,
        *numeric_column(rows, keys.STEP)[-1:],
        *steps_frame[keys.STEP].to_numpy()[-1:],
    ]
    evidence = {"first_step": start, "nonfinite_outputs": int(len(bad_steps))}
    if (nonfinite > 0).any():
        evidence["nonfinite_sample_frac"] = float(nonfinite[nonfinite > 0][-1])
    message = f"{what} became NaN or inf at step {start:,}; metrics after it are meaningless"
    return Finding("diverged", ERROR, start, int(max(last_steps)), message, evidence)
