"""The Monitor's side of the run store: opening the folder and going back to a checkpoint."""

from __future__ import annotations

import math
import os

import numpy as np
import pandas as pd

from collapsekit.metrics import keys
from collapsekit.runs import RunDir


def open_run(run_dir: str | os.PathLike | None, resume: bool, config: dict) -> RunDir | None:
    """None without a folder; the existing run when resuming; else a new run with ``config``.

    Example:
        >>> open_run(None, resume=False, config={}) is None
        True
    """
    if run_dir is None:
        return None
    if resume:
        return RunDir.open(run_dir)
    return RunDir.create(run_dir, config)


def rewind(run: RunDir, step: int) -> tuple[list[dict], pd.DataFrame, dict[str, np.ndarray]]:
    """Drop what the run measured after ``step`` and return what is kept.

    Returns the history rows, the equilibrium frame (``step, d_real, d_fake``)
    and the sample snapshots up to ``step``; the history and equilibrium files
    are rewritten to match.
    """
    history = run.read_history()
    rows = [_clean_row(row) for row in history.to_dict("records") if row[keys.STEP] <= step]
    run.write_history(rows)
    frame = run.truncate_equilibrium(step)
    snapshots = {k: v for k, v in run.read_samples().items() if _snapshot_step(k) <= step}
    return rows, frame, snapshots


def _clean_row(row: dict) -> dict:
    return {k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in row.items()}


def _snapshot_step(name: str) -> int:
    return int(name.split("_")[1]) if name.startswith("step_") else -1
