"""Runs for the reproduction report, read through the run store: one row per run, and curves.

Each run becomes one row: its protocol (``default`` when the config names none,
as in runs made before protocols existed), model, options (``pack=2``), the metz
nets' D width (``quarter``; "" for other nets), dataset name and spec, seed,
status, the steps it ran, and its final metrics, plus
PacGAN's reverse KL computed from the final high-quality mode counts.

Example:
    >>> runs = read_runs(["reports/reproductions/runs"])  # doctest: +SKIP
    >>> select(runs, "pacgan", "pacgan", "pack=2", "ring8").seed.tolist()  # doctest: +SKIP
    [0, 1, 2, 3, 4]
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from collapsekit.errors import CollapsekitError
from collapsekit.metrics import keys
from collapsekit.report.published import PACGAN_REVERSE_KL
from collapsekit.runs import load_history, load_runs

DEFAULT_PROTOCOL = "default"
FINISHED = "finished"
RUN_COLUMNS = ["run_dir", "protocol", "model", "options", "d_width", "label", "dataset"]
RUN_COLUMNS += ["data_spec", "seed", "status", "step", "planned_steps"]


def read_runs(roots: Sequence[str | os.PathLike]) -> pd.DataFrame:
    """One row per run folder under ``roots`` (any depth, each folder once); corrupt ones are
    skipped with a warning by ``load_runs``.

    Raises CollapsekitError when a root does not exist or no run is found at all.
    """
    frames = []
    for root in roots:
        if not Path(root).exists():
            raise CollapsekitError(
                f"{root} does not exist; pass folders holding run folders (collapsekit sweep --out)"
            )
        frames.append(load_runs(root))
    frames = [frame for frame in frames if len(frame)]
    if not frames:
        where = ", ".join(str(root) for root in roots)
        raise CollapsekitError(
            f"no run found under {where}; train them first (make reproductions) or pass other folders"
        )
    raw = pd.concat(frames, ignore_index=True)
    raw["run_dir"] = [str(Path(path).resolve()) for path in raw["run_dir"]]
    raw = raw.drop_duplicates("run_dir", ignore_index=True)
    return _normalise(raw)


def _normalise(raw: pd.DataFrame) -> pd.DataFrame:
    frame = pd.DataFrame({"run_dir": raw["run_dir"]})
    frame["protocol"] = [_text(p) or DEFAULT_PROTOCOL for p in _column(raw, "protocol")]
    frame["model"] = [_text(m) or "custom" for m in _column(raw, "model")]
    frame["options"] = [_text(o) for o in _column(raw, "options")]
    frame["label"] = [f"{m} ({o})" if o else m for m, o in zip(frame.model, frame.options, strict=True)]
    frame["d_width"] = [_text(w) for w in _column(raw, "d_width")]  # metz nets: quarter, half
    frame["data_spec"] = [_text(d) or "unknown" for d in _column(raw, "data")]
    frame["dataset"] = [spec.partition(":")[0] for spec in frame["data_spec"]]  # ring8
    frame["seed"] = _column(raw, "seed")
    frame["status"] = [_text(s) or "unknown" for s in _column(raw, "status")]
    frame["step"] = pd.to_numeric(_column(raw, keys.STEP), errors="coerce")
    frame["planned_steps"] = pd.to_numeric(_column(raw, "steps"), errors="coerce")
    for metric in (keys.MODES_CAPTURED, keys.MODES_TOTAL, keys.HIGH_QUALITY_FRAC, keys.MODE_KL):
        frame[metric] = pd.to_numeric(_column(raw, metric), errors="coerce")
    frame[PACGAN_REVERSE_KL] = [pacgan_reverse_kl(c) for c in _column(raw, keys.MODE_COUNTS)]
    return frame


def _column(frame: pd.DataFrame, name: str) -> list:
    return frame[name].tolist() if name in frame else [None] * len(frame)


def _text(value: object) -> str:
    """A config value as text; missing values (None, NaN from a ragged frame) as ""."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return str(value)


def pacgan_reverse_kl(counts: object) -> float:
    """PacGAN Table 1's reverse KL: log K minus the entropy of the high-quality histogram.

    ``counts`` are high-quality samples per mode (K of them). This is KL(p || uniform)
    of the histogram PacGAN's MetricLogger builds (``detail_of_coverage``), in nats;
    NaN without any high-quality sample or without counts.

    Example:
        >>> round(pacgan_reverse_kl([10, 10, 0, 0]), 4)  # two of four modes: log 2
        0.6931
    """
    if not isinstance(counts, (list, tuple)) or not counts:
        return math.nan
    values = np.asarray(counts, dtype=np.float64)
    total = values.sum()
    if total <= 0:
        return math.nan
    shares = values[values > 0] / total
    return float(math.log(len(values)) + (shares * np.log(shares)).sum())


def select(
    runs: pd.DataFrame, protocol: str, model: str, options: str, dataset: str, d_width: str = ""
) -> pd.DataFrame:
    """Runs of ``model`` under ``protocol`` on ``dataset`` (a name: ``ring8``) whose options
    include every ``key=value`` of ``options`` (``""`` matches any) and, when ``d_width`` is
    given, whose D has that width (``quarter``)."""
    wanted = set(filter(None, options.split(",")))
    chosen = (runs["protocol"] == protocol) & (runs["model"] == model)
    chosen &= runs["dataset"] == dataset
    if d_width:
        chosen &= runs["d_width"] == d_width
    chosen &= runs["options"].map(lambda text: wanted <= set(filter(None, text.split(","))))
    return runs[chosen]


def finished(runs: pd.DataFrame) -> pd.DataFrame:
    """The runs whose summary says they finished: those a table's mean is taken over."""
    return runs[runs["status"] == FINISHED]


def steps_text(runs: pd.DataFrame) -> str:
    """The steps the runs ran: ``"50000"``, or ``"25000-50000"`` when they differ; "" if none."""
    steps = sorted({int(s) for s in runs["step"] if pd.notna(s)})
    if not steps:
        return ""
    return str(steps[0]) if len(steps) == 1 else f"{steps[0]}-{steps[-1]}"


def histories(runs: pd.DataFrame) -> pd.DataFrame:
    """Modes captured at every evaluation of every run, with the run's identity columns.

    Unfinished runs contribute the evaluations they reached.
    """
    parts = []
    for _, run in runs.iterrows():
        history = load_history(run["run_dir"])
        if keys.MODES_CAPTURED not in history or not len(history):
            continue
        part = history[[keys.STEP, keys.MODES_CAPTURED]].astype(float)
        part[keys.MODES_TOTAL] = history.get(keys.MODES_TOTAL, np.nan)
        for column in ("protocol", "label", "data_spec", "d_width", "planned_steps", "run_dir"):
            part[column] = run[column]
        parts.append(part)
    columns = [keys.STEP, keys.MODES_CAPTURED, keys.MODES_TOTAL, "protocol", "label", "d_width"]
    columns += ["data_spec", "planned_steps", "run_dir"]
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=columns)
