"""The reproduction report's tables as text cells, in display units (high quality in percent).

Example:
    >>> tables = reproduction_tables(reproduction_table(runs))  # doctest: +SKIP
    >>> [caption for caption, _ in tables]  # doctest: +SKIP
    ['PacGAN Table 1', 'VEEGAN Table 1']
"""

from __future__ import annotations

import math

import pandas as pd

from collapsekit.report.default_protocol import METRICS
from collapsekit.report.display import Table, format_half_width, format_value, heading
from collapsekit.report.published import PACGAN_REVERSE_KL
from collapsekit.report.verdicts import Estimate, interval_text

PROSE = ("note", "protocol", "published ordering", "ours")
SHORT_HEADINGS = {PACGAN_REVERSE_KL: "reverse KL"}  # the table's name says whose definition


def reproduction_tables(frame: pd.DataFrame) -> list[tuple[str, Table]]:
    """One table per published table and dataset: each published number beside ours."""
    columns = ["method", "metric", "published", "ours (95% CI)", "trials", "steps", "protocol"]
    columns += ["verdict", "note"]
    numeric = [False, False, True, True, True, True, False, False, False]
    tables = []
    for (name, dataset), part in frame.groupby(["table", "dataset"], sort=False):
        table = Table(columns, numeric=numeric, prose=PROSE)
        for _, row in part.iterrows():
            metric = SHORT_HEADINGS.get(row["metric"]) or heading(row["metric"])
            cells = [row["method"], metric, published_cell(row)]
            cells += [estimate_cell(row), str(row["trials"]), row["steps"] or ""]
            cells += [row["protocol"], row["verdict"], row["note"]]
            table.rows.append([str(cell) for cell in cells])
        tables.append((f"{name}, {dataset}", table))
    return tables


def default_tables(frame: pd.DataFrame) -> list[tuple[str, Table]]:
    """Per dataset: methods as rows, mean [95% interval] of each metric."""
    columns = ["method", "trials", "steps"] + [heading(metric) for metric in METRICS]
    tables = []
    for dataset, part in frame.groupby("dataset", sort=False):
        table = Table(columns, numeric=[False, True, True] + [True] * len(METRICS))
        for method, rows in part.groupby("method", sort=False):
            by_metric = {row["metric"]: row for _, row in rows.iterrows()}
            first = rows.iloc[0]
            cells = [method, str(first["trials"]), first["steps"] or ""]
            cells += [estimate_cell(by_metric[metric]) for metric in METRICS]
            table.rows.append([str(cell) for cell in cells])
        tables.append((str(dataset), table))
    return tables


def ordering_table(frame: pd.DataFrame) -> Table:
    """The published orderings in modes captured and whether our default-protocol runs hold them."""
    table = Table(
        ["dataset", "published ordering", "holds", "ours"],
        numeric=[False, False, False, False],
        prose=PROSE,
    )
    for _, row in frame[frame["published_ordering"] != ""].iterrows():
        table.rows.append(
            [row["dataset"], row["published_ordering"], row["holds"], row["note"]]
        )
    return table


def published_cell(row: pd.Series) -> str:
    """``7.9 ± 0.1`` (PacGAN's standard error) or ``7.6`` in the metric's display unit."""
    text = format_value(row["metric"], row["published"])
    error = row["published_error"]
    if error is not None and not (isinstance(error, float) and math.isnan(error)):
        text += f" ± {format_half_width(row['metric'], error)}"
    return text


def estimate_cell(row: pd.Series) -> str:
    """``6.2 [5.6, 6.8]``: our mean and 95% interval, ``(3 of 5)`` when runs lack the value;
    "" without runs."""
    if not row["ours_n"]:
        return ""
    estimate = Estimate(row["ours"], row["ours_low"], row["ours_high"], int(row["ours_n"]))
    text = interval_text(row["metric"], estimate)
    return text + (f" ({estimate.n} of {row['trials']})" if estimate.n < row["trials"] else "")
