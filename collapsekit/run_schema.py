"""What each file of a run folder must hold, checked as it is read.

A run folder can be edited by hand, copied half-way or truncated by a full disk.
The readers in ``collapsekit.runs`` pass what they parsed through these checks,
so a damaged part is one ``RunFolderError`` naming the file and the problem,
never a ``TypeError`` or ``OverflowError`` in a table or plot much later.

Example:
    >>> check_summary({"status": "finished", "step": 10, "metrics": {}, "findings": []}, "s.json")
    {'status': 'finished', 'step': 10, 'metrics': {}, 'findings': []}
    >>> check_summary({"status": "finished", "findings": "oops"}, "s.json")
    Traceback (most recent call last):
    ...
    collapsekit.errors.RunFolderError: s.json is corrupt: findings must be a list of objects, got 'oops'
"""

from __future__ import annotations

import math
import numbers
import os

import pandas as pd

from collapsekit.errors import RunFolderError
from collapsekit.metrics import keys

LARGEST_NUMBER = 2**63  # integers from here on cannot be a count or step a run wrote
LIST_METRICS = (keys.MODE_COUNTS,)  # the metrics that are lists (of numbers); the rest are numbers
FINDING_TEXT = ("name", "message", "severity")
FINDING_STEPS = ("start_step", "end_step")


def check_summary(summary: dict, path: str | os.PathLike) -> dict:
    """``summary`` (parsed summary.json) if its parts have the types a run writes; else RunFolderError."""
    _expect(
        isinstance(summary.get("status", ""), str),
        path,
        "status must be text",
        summary.get("status"),
    )
    _check_step(summary.get(keys.STEP), path, "step")
    _check_number(summary.get("elapsed_s"), path, "elapsed_s")
    metrics = summary.get("metrics", {})
    _expect(isinstance(metrics, dict), path, "metrics must be an object", metrics)
    for name, value in metrics.items():
        check_metric(value, path, name)
    findings = summary.get("findings", [])
    _expect(
        isinstance(findings, list) and all(isinstance(f, dict) for f in findings),
        path,
        "findings must be a list of objects",
        findings,
    )
    for finding in findings:
        _check_finding(finding, path)
    return summary


def check_metric(value: object, path: str | os.PathLike, name: str) -> None:
    """A metric is a number or None (NaN in JSON); those of ``LIST_METRICS`` are lists of numbers."""
    if name not in LIST_METRICS:
        _check_number(value, path, f"metric {name}")
        return
    _expect(isinstance(value, list), path, f"metric {name} must be a list", value)
    for item in value:
        _check_number(item, path, f"metric {name}", allow_none=False)


def check_history(frame: pd.DataFrame, path: str | os.PathLike) -> pd.DataFrame:
    """``frame`` (parsed history.csv) if its steps are whole numbers and its metrics numbers."""
    steps = pd.to_numeric(frame[keys.STEP], errors="coerce")
    bad = frame[keys.STEP][steps.isna() | (steps != steps.round())]
    _expect(bad.empty, path, "a step is not a whole number", None if bad.empty else bad.iloc[0])
    for column in frame.columns:
        if column in LIST_METRICS or column == keys.STEP:
            continue
        values = frame[column]
        numeric = pd.to_numeric(values, errors="coerce")
        bad = values[numeric.isna() & values.notna()]
        _expect(
            bad.empty,
            path,
            f"column {column} holds a non-number",
            None if bad.empty else bad.iloc[0],
        )
        frame[column] = numeric
    frame[keys.STEP] = steps.astype("int64")
    return frame


def check_sample_arrays(arrays: dict, path: str | os.PathLike) -> dict:
    """Sample snapshots are numeric arrays of one row per sample, (N, ...)."""
    for name, array in arrays.items():
        _expect(
            array.dtype.kind in "biuf" and array.ndim >= 2,
            path,
            f"array {name} is not samples (N, ...)",
            f"{array.dtype} {array.shape}",
        )
    return arrays


def _check_finding(finding: dict, path: str | os.PathLike) -> None:
    for field in FINDING_TEXT:
        _expect(
            isinstance(finding.get(field, ""), str),
            path,
            f"a finding's {field} must be text",
            finding.get(field),
        )
    for field in FINDING_STEPS:
        _check_step(finding.get(field), path, f"a finding's {field}")
    _expect(
        isinstance(finding.get("evidence", {}), dict),
        path,
        "a finding's evidence must be an object",
        finding.get("evidence"),
    )


def _check_step(value: object, path: str | os.PathLike, what: str) -> None:
    if value is None:
        return
    _expect(
        isinstance(value, numbers.Integral)
        and not isinstance(value, bool)
        and 0 <= value < LARGEST_NUMBER,
        path,
        f"{what} must be a step number",
        value,
    )


def _check_number(
    value: object, path: str | os.PathLike, what: str, allow_none: bool = True
) -> None:
    if value is None and allow_none:
        return
    _expect(_is_stored_number(value), path, f"{what} must be a number", value)


def _is_stored_number(value: object) -> bool:
    """A number a run could have stored: a float that is not infinite, an integer that fits int64."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        return False
    if isinstance(value, numbers.Integral):
        return abs(int(value)) < LARGEST_NUMBER
    return not math.isinf(float(value))  # NaN: not measured


def _expect(condition: bool, path: str | os.PathLike, problem: str, value: object) -> None:
    if not condition:
        shown = repr(value)
        shown = shown if len(shown) <= 60 else shown[:57] + "..."
        raise RunFolderError(f"{path} is corrupt: {problem}, got {shown}")
