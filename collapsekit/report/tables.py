"""Report tables as pandas DataFrames: one row per run, and one per dataset and model.

Means across seeds come with a 95% confidence interval from Student's t
distribution (``mean +- t(0.975, n-1) * sd / sqrt(n)``); with one seed the
interval is undefined (NaN). A metric missing in some seeds (``mode_kl`` is NaN
when a run has no high-quality sample) is averaged over the seeds that have it,
and ``<metric>_n`` says how many.

Example:
    >>> confidence_interval([2.0, 4.0, 6.0])  # doctest: +ELLIPSIS
    (4.0, -0.96..., 8.96..., 3)
"""

from __future__ import annotations

import math
from collections import Counter

import numpy as np
import pandas as pd
from scipy import stats

from collapsekit.metrics import keys
from collapsekit.report.loading import RunRecord, metric_names

CONFIDENCE = 0.95
RUN_COLUMNS = ["run_id", "data", "model", "seed", "status", "step"]
GROUP_COLUMNS = ["data", "model"]


def confidence_interval(values, level: float = CONFIDENCE) -> tuple[float, float, float, int]:
    """Mean, lower and upper bound of the t-interval, and the count of finite values."""
    finite = np.asarray([v for v in values if v is not None], dtype=np.float64)
    finite = finite[np.isfinite(finite)]
    n = int(finite.size)
    if n == 0:
        return math.nan, math.nan, math.nan, 0
    mean = float(finite.mean())
    if n == 1:
        return mean, math.nan, math.nan, 1
    half = float(stats.t.ppf(0.5 + level / 2, n - 1) * finite.std(ddof=1) / math.sqrt(n))
    return mean, mean - half, mean + half, n


def summary_table(records: list[RunRecord]) -> pd.DataFrame:
    """One row per run: identity, status, last step, every final metric, findings, folder."""
    metrics = metric_names(records)
    rows = []
    for record in records:
        row = {
            "run_id": record.run_id,
            "data": record.data,
            "model": record.label,
            "seed": record.seed,
            "status": record.status,
            "step": record.step,
            keys.MODES_TOTAL: record.metrics.get(keys.MODES_TOTAL),
        }
        row.update({name: _number(record.metrics.get(name)) for name in metrics})
        row["findings"] = ", ".join(f.get("name", "?") for f in record.findings)
        row["run_dir"] = str(record.path)
        rows.append(row)
    frame = pd.DataFrame(
        rows, columns=RUN_COLUMNS + [keys.MODES_TOTAL, *metrics, "findings", "run_dir"]
    )
    return frame.sort_values(["data", "model", "seed", "run_id"], key=_sort_key, ignore_index=True)


def comparison_table(records: list[RunRecord]) -> pd.DataFrame:
    """One row per dataset and model: runs, seeds, statuses, and mean/CI/n of every metric."""
    metrics = metric_names(records)
    groups: dict[tuple[str, str], list[RunRecord]] = {}
    for record in records:
        groups.setdefault((record.data, record.label), []).append(record)
    rows = [_group_row(data, model, group, metrics) for (data, model), group in groups.items()]
    frame = pd.DataFrame(rows)
    if not len(frame):
        return pd.DataFrame(columns=GROUP_COLUMNS)
    return frame.sort_values(GROUP_COLUMNS, ignore_index=True)


def _group_row(data: str, model: str, group: list[RunRecord], metrics: list[str]) -> dict:
    statuses = Counter(record.status for record in group)
    row = {
        "data": data,
        "model": model,
        "runs": len(group),
        "seeds": " ".join(str(s) for s in sorted((r.seed for r in group), key=_seed_order)),
        "status": ", ".join(f"{count} {status}" for status, count in sorted(statuses.items())),
        keys.MODES_TOTAL: _first(record.metrics.get(keys.MODES_TOTAL) for record in group),
    }
    for name in metrics:
        mean, low, high, n = confidence_interval(_number(r.metrics.get(name)) for r in group)
        row.update(
            {f"{name}_mean": mean, f"{name}_ci_low": low, f"{name}_ci_high": high, f"{name}_n": n}
        )
    row["diagnosis"] = diagnosis_text(group)
    return row


def diagnosis_text(group: list[RunRecord]) -> str:
    """Findings across a group's runs: ``collapsed 5/5, mode_hopping 2/5`` (most frequent first)."""
    counts = Counter(
        name for record in group for name in {f.get("name", "?") for f in record.findings}
    )
    return ", ".join(f"{name} {count}/{len(group)}" for name, count in counts.most_common())


def has_findings(records: list[RunRecord]) -> bool:
    """Whether any run carries diagnosis findings (the diagnosis column is left out otherwise)."""
    return any(record.findings for record in records)


def _number(value: object) -> float:
    if value is None:
        return math.nan
    try:
        return float(value)
    except (TypeError, ValueError):
        return math.nan


def _first(values) -> object:
    return next((v for v in values if v is not None), None)


def _seed_order(seed: object) -> tuple:
    return (0, seed, "") if isinstance(seed, (int, float)) else (1, 0, str(seed))


def _sort_key(column: pd.Series) -> pd.Series:
    if column.name == "seed":
        return column.map(lambda seed: _seed_order(seed))
    return column.astype(str)
