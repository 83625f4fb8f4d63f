"""The Monitor's side of the run store: opening the folder and going back to a checkpoint."""

from __future__ import annotations

import math
import os

import numpy as np
import pandas as pd

from collapsekit.data import dataset_from_config, dataset_record
from collapsekit.errors import CollapsekitError
from collapsekit.metrics import keys
from collapsekit.monitor.reference import MonitorData
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


def stored_data(data: object, run_dir: str | os.PathLike | None, resume: bool) -> object:
    """``data`` itself, or, when None and resuming, the dataset stored in the run's config.json.

    Example:
        >>> stored_data("ring8", None, resume=False)
        'ring8'
    """
    if data is not None:
        return data
    if not resume or run_dir is None:
        raise CollapsekitError(
            "data is required: a dataset name, a Dataset or real samples (only a resumed run "
            "folder can leave it out, Monitor(None, run_dir=..., resume=True))"
        )
    return dataset_from_config(RunDir.open(run_dir).read_config())


def run_config(
    data: MonitorData, eval_every: int, config: dict | None, model: str | None, label: str | None
) -> dict:
    """What ``config.json`` holds: the data (and a mixture itself), eval_every, the user's
    config, then ``model`` and ``label`` when given."""
    record = {"data": data.spec, "eval_every": eval_every}
    if data.dataset is not None:
        record.update(dataset_record(data.dataset))
    record.update(config or {})
    record.update({k: v for k, v in (("model", model), ("label", label)) if v is not None})
    return record


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
