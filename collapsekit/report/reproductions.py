"""The reproduction table: every published number we can reproduce, ours beside it, a verdict.

One row per published number of PacGAN Table 1, VEEGAN Table 1 and PacGAN Table 3
for a method we implement (``published.REPRODUCTIONS``), measured by runs of the
paper's protocol. Our value is the mean over finished runs of the final metric
with its 95% t-interval; the verdict follows ``verdicts``. Runs of different lengths
(50,000 steps of a protocol's 400,000, and full-length ones) are never pooled: each
length gets its own rows, shortest first, its methods judged against each other. A
method without finished runs keeps its row: ``not reproduced``, note ``no runs yet``.

A table measured on data we cannot build here (PacGAN Table 3 on MNIST digits)
has its rows once per dataset standing in for it (``PaperSetting.stand_ins``:
stacked-digits, stacked-fashion), judged on the ordering only; its own dataset
(stacked-mnist) gets rows only when runs of the table's methods are on it.

Hand-written notes (``reproduction_notes``) are appended to the note of the row
with the same table, dataset, method and metric.

Example:
    >>> table = reproduction_table(read_runs(["reports/reproductions/runs"]))  # doctest: +SKIP
    >>> table.loc[0, ["table", "method", "metric", "verdict"]].tolist()  # doctest: +SKIP
    ['PacGAN Table 1', 'GAN', 'modes_captured', 'ordering reproduced']
"""

from __future__ import annotations

import math

import pandas as pd

from collapsekit.metrics import keys
from collapsekit.report.published import (
    PAPER_SETTINGS,
    PUBLISHED,
    REPRODUCTIONS,
    PaperSetting,
    PublishedResult,
    Reproduction,
)
from collapsekit.report.reproduction_notes import Notes, join_notes
from collapsekit.report.reproduction_runs import finished, select, steps_text
from collapsekit.report.verdicts import NOT_REPRODUCED, Estimate, Rival, verdict

COLUMNS = ["table", "dataset", "method", "metric", "published", "published_error", "ours"]
COLUMNS += ["ours_ci95", "trials", "steps", "protocol", "verdict", "note"]
# kept for display and the orderings, not written to CSV; length: the runs' planned steps
ESTIMATE_COLUMNS = ["ours_low", "ours_high", "ours_n", "length"]
NO_RUNS = "no runs yet"


def reproduction_table(runs: pd.DataFrame, notes: Notes | None = None) -> pd.DataFrame:
    """The rows of ``reproductions.csv``: by table, dataset, metric, then method."""
    rows = []
    for source, setting in PAPER_SETTINGS.items():
        methods = {r.method: r for r in REPRODUCTIONS if r.source == source}
        published = [p for p in PUBLISHED if p.source == source and p.method in methods]
        rows += _table_rows(runs, setting, published, methods)
    frame = pd.DataFrame(rows, columns=COLUMNS + ESTIMATE_COLUMNS)
    frame["note"] = join_notes(frame, notes)
    return frame


def _table_rows(
    runs: pd.DataFrame,
    setting: PaperSetting,
    published: list[PublishedResult],
    methods: dict[str, Reproduction],
) -> list[dict]:
    """The rows of one published table: by our dataset, then metric, then method."""
    rows = []
    for measured in dict.fromkeys(p.dataset for p in published):
        for dataset in our_datasets(runs, setting, measured, list(methods.values())):
            for metric in dict.fromkeys(p.metric for p in published if p.dataset == measured):
                group = [p for p in published if p.dataset == measured and p.metric == metric]
                rows += _metric_rows(runs, setting, group, methods, dataset)
    return rows


def our_datasets(
    runs: pd.DataFrame, setting: PaperSetting, measured: str, reproductions: list[Reproduction]
) -> list[str]:
    """The datasets whose runs a table's numbers measured on ``measured`` are compared with:
    ``measured`` itself, or the table's stand-ins, then ``measured`` when runs are on it."""
    if not setting.stand_ins:
        return [measured]
    ran = any(len(select_reproduction(runs, r, measured)) for r in reproductions)
    return [*setting.stand_ins, *([measured] if ran else [])]


def _metric_rows(
    runs: pd.DataFrame,
    setting: PaperSetting,
    group: list[PublishedResult],
    methods: dict[str, Reproduction],
    dataset: str,
) -> list[dict]:
    """The rows of one table, our dataset and metric: each method against the others, once
    per run length, shortest first (a 50,000- and a 400,000-step run are never pooled)."""
    chosen = {p.method: select_reproduction(runs, methods[p.method], dataset) for p in group}
    rows = []
    for length in run_lengths(list(chosen.values())):
        at_length = {method: of_length(found, length) for method, found in chosen.items()}
        rows += _length_rows(setting, group, methods, at_length, dataset, length)
    return rows


def _length_rows(
    setting: PaperSetting,
    group: list[PublishedResult],
    methods: dict[str, Reproduction],
    chosen: dict[str, pd.DataFrame],
    dataset: str,
    length: float,
) -> list[dict]:
    """The rows of one metric for the runs of one length, ``chosen`` per method."""
    estimates = {
        method: Estimate.of(finished(found)[group[0].metric]) if len(finished(found)) else None
        for method, found in chosen.items()
    }
    rows = []
    for result in group:
        rivals = [
            Rival(p.method, p.value, p.error, estimates[p.method]) for p in group if p is not result
        ]
        found = chosen[result.method]
        row = _row(setting, result, methods[result.method], found, rivals, dataset)
        if not row["steps"] and not math.isnan(length):  # no finished run: the planned length
            row["steps"] = str(int(length))
        rows.append({**row, "length": length})
    return rows


def run_lengths(found: list[pd.DataFrame]) -> list[float]:
    """The planned lengths (steps) of the runs behind a group of rows, shortest first;
    ``[nan]`` (one set of rows) when no run says its length.

    Example:
        >>> run_lengths([pd.DataFrame({"planned_steps": [50_000, 400_000, 50_000]})])
        [50000.0, 400000.0]
    """
    lengths = {float(s) for frame in found for s in frame["planned_steps"] if pd.notna(s)}
    return sorted(lengths) or [math.nan]


def of_length(found: pd.DataFrame, length: float) -> pd.DataFrame:
    """The runs of ``found`` planned for ``length`` steps (all of them for ``nan``)."""
    return found if math.isnan(length) else found[found["planned_steps"] == length]


def select_reproduction(runs: pd.DataFrame, reproduction: Reproduction, dataset: str) -> pd.DataFrame:
    """All runs (any status) that reproduce ``reproduction`` on ``dataset``: its protocol,
    model, options and, for the metz nets, D width."""
    return select(
        runs,
        reproduction.protocol,
        reproduction.model,
        reproduction.options,
        dataset,
        reproduction.d_width,
    )


def _row(
    setting: PaperSetting,
    result: PublishedResult,
    reproduction: Reproduction,
    found: pd.DataFrame,
    rivals: list[Rival],
    dataset: str,
) -> dict:
    done = finished(found)
    measured_on = setting.measured_on if dataset != result.dataset else ""
    row = {
        "table": setting.name,
        "dataset": dataset,
        "method": result.method,
        "metric": result.metric,
        "published": round(result.value, 6),  # 95.9 / 100 -> 0.959, not 0.9590000000000001
        "published_error": None if result.error is None else round(result.error, 6),
        "trials": len(done),
        "steps": steps_text(done),
        "protocol": protocol_text(reproduction.protocol, done, setting, measured_on),
    }
    if not len(done):
        note = "; ".join([NO_RUNS, *run_remarks(found)])
        row.update(estimate_columns(result.metric, None), verdict=NOT_REPRODUCED, note=note)
        return row
    ours = Estimate.of(done[result.metric])
    decided, note = verdict(result.metric, result.value, result.error, ours, rivals, measured_on)
    row.update(estimate_columns(result.metric, ours), verdict=decided)
    remarks = [missing_remark(ours, len(done)), *run_remarks(found)]
    row["note"] = "; ".join(filter(None, [note, *remarks]))
    return row


def protocol_text(
    protocol: str, done: pd.DataFrame, setting: PaperSetting, measured_on: str = ""
) -> str:
    """``pacgan (50,000 of 400,000 steps; 5 of 10 trials)``: what differs from the paper;
    with ``measured_on``, also that the paper's data differ and only the ordering compares."""
    steps = sorted({int(s) for s in done["step"] if pd.notna(s)})
    differences = []
    if steps and steps != [setting.steps]:
        ran = f"{steps[0]:,}" if len(steps) == 1 else f"{steps[0]:,} to {steps[-1]:,}"
        differences.append(f"{ran} of {setting.steps:,} steps")
    if setting.trials and 0 < len(done) < setting.trials:
        differences.append(f"{len(done)} of {setting.trials} trials")
    if measured_on:
        differences.append(f"published on {measured_on}: only the ordering compares")
    if not len(done):
        return f"{protocol} ({differences[-1]})" if measured_on else protocol
    return f"{protocol} ({'; '.join(differences) or 'steps and trials as the paper'})"


def run_remarks(found: pd.DataFrame) -> list[str]:
    """What a reader must know about the runs behind a row: unfinished ones, mixed settings."""
    remarks = []
    unfinished = found[found["status"] != "finished"]
    if len(unfinished):
        statuses = ", ".join(f"{n} {s}" for s, n in unfinished["status"].value_counts().items())
        remarks.append(f"not counted: {statuses}")
    for column, what in (("data_spec", "data"), ("options", "options")):
        values = sorted(set(finished(found)[column]))
        if len(values) > 1:
            remarks.append(f"runs differ in {what}: {', '.join(values)}")
    return remarks


def estimate_columns(metric: str, ours: Estimate | None) -> dict:
    """``ours`` (rounded), ``ours_ci95`` (text) and the estimate's bounds and count."""
    if ours is None:
        return {"ours": math.nan, "ours_ci95": "", "ours_low": math.nan, "ours_high": math.nan,
                "ours_n": 0}
    return {
        "ours": _rounded(ours.mean),
        "ours_ci95": csv_interval(metric, ours),
        "ours_low": ours.low,
        "ours_high": ours.high,
        "ours_n": ours.n,
    }


def missing_remark(ours: Estimate, trials: int) -> str:
    """Says how many finished runs lack the value (a KL without any high-quality sample)."""
    if ours.n >= trials:
        return ""
    return f"mean of {ours.n} of {trials} runs (the others have no high-quality sample)"


def csv_interval(metric: str, estimate: Estimate) -> str:
    """The 95% interval for the CSV in the metric's own unit: ``[6.1, 7.3]``, ``[0.912, 0.951]``.

    Example:
        >>> csv_interval("high_quality_frac", Estimate(0.93, 0.9123, 0.9511, 5))
        '[0.912, 0.951]'
    """
    if not estimate.has_interval:
        return ""
    digits = 1 if metric in (keys.MODES_CAPTURED, keys.MODES_COVERED) else 3
    return f"[{estimate.low:.{digits}f}, {estimate.high:.{digits}f}]"


def _rounded(value: float) -> float:
    return round(value, 4) if math.isfinite(value) else math.nan
