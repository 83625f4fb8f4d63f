"""The reproduction report: published ring, grid and stacked-MNIST numbers beside ours.

``build_reproductions`` reads run folders (the run store only) and writes into ``out``:

- ``reproductions.csv``: one row per published number we can reproduce, with a verdict;
- ``orderings.csv``: each published ordering in modes captured (a method ranked apart
  from its table's GAN baseline) and whether our runs under the paper's protocol hold it;
- ``default_protocol.csv``: the bundled models under collapsekit's default protocol,
  with the papers' orderings and whether ours holds them;
- ``report.md`` (images in ``images/``) and a self-contained ``report.html``: the
  ring and grid reproductions, the stacked-MNIST ones (PacGAN Table 3 beside our
  stacked-digits and stacked-fashion runs), the default-protocol table, all as text
  cells in display units (high quality in percent), then coverage curves per protocol.

Example:
    >>> report = build_reproductions(
    ...     ["reports/reproductions/runs", "reports/reference/runs"], "reports/reproductions"
    ... )  # doctest: +SKIP
    >>> report.reproductions[["method", "verdict"]].head(2)  # doctest: +SKIP
"""

from __future__ import annotations

import datetime
import logging
import math
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from collapsekit.atomic import atomic_write_text
from collapsekit.errors import CollapsekitError
from collapsekit.report import default_protocol, orderings, reproductions
from collapsekit.report.display import Table, format_half_width, format_value, heading
from collapsekit.report.published import (
    METZ_PROTOCOL,
    PACGAN_PROTOCOL,
    PACGAN_REVERSE_KL,
    PACGAN_TABLE_1,
    PAPER_SETTINGS,
    VEEGAN_PROTOCOL,
    VEEGAN_TABLE_1,
)
from collapsekit.report.render import IMAGES, render, write_images
from collapsekit.report.reproduction_notes import read_notes, unmatched_notes
from collapsekit.report.reproduction_plots import coverage_plots
from collapsekit.report.reproduction_runs import histories, read_runs
from collapsekit.report.sections import dataset_order
from collapsekit.report.verdicts import VERDICTS, Estimate, interval_text
from collapsekit.runs import ensure_writable_folder

logger = logging.getLogger(__name__)

TITLE = "collapsekit reproductions: published mode-collapse results under their own protocols"
REPRODUCTIONS_CSV, DEFAULT_CSV = "reproductions.csv", "default_protocol.csv"
ORDERINGS_CSV = "orderings.csv"
HTML, MARKDOWN = "report.html", "report.md"


@dataclass
class ReproductionReport:
    """What ``build_reproductions`` wrote: paths by kind, both tables, runs read, time taken."""

    paths: dict[str, Path]
    reproductions: pd.DataFrame  # the rows of reproductions.csv
    orderings: pd.DataFrame  # the rows of orderings.csv
    default_protocol: pd.DataFrame  # the rows of default_protocol.csv
    runs: pd.DataFrame  # one row per run read
    unmatched_notes: list[tuple[str, ...]]
    seconds: float


def build_reproductions(
    roots: Sequence[str | os.PathLike],
    out: str | os.PathLike = "reports/reproductions",
    notes: str | os.PathLike | None = None,
) -> ReproductionReport:
    """Read every run under ``roots`` and write the reproduction report into ``out``.

    Args:
        roots: folders holding run folders at any depth (each run read once).
        out: folder for reproductions.csv, orderings.csv, default_protocol.csv, report.md,
            report.html, images/.
        notes: optional CSV (table,dataset,method,metric,note) whose notes are appended to rows.

    Raises CollapsekitError when a root is missing, no run is found, the notes file
    cannot be read, or ``out`` is not a writable folder.
    """
    started = time.perf_counter()
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise CollapsekitError(f"{out} is a file, not a folder; choose another --out")
    extra = read_notes(notes) if notes is not None else None
    runs = read_runs(roots)
    reproduced = reproductions.reproduction_table(runs, extra)
    ordered = orderings.published_orderings(reproduced)
    default = default_protocol.default_protocol_table(runs, extra)
    unmatched = unmatched_notes(extra, [reproduced, default])
    plots = coverage_plots(histories(runs))
    context = _context(roots, runs, reproduced, ordered, default, plots)
    paths = _write(out, context, plots, {REPRODUCTIONS_CSV: reproduced[reproductions.COLUMNS],
                   ORDERINGS_CSV: ordered, DEFAULT_CSV: default[default_protocol.COLUMNS]})  # fmt: skip
    seconds = time.perf_counter() - started
    logger.info("reproduction report of %d runs written to %s in %.1f s", len(runs), out, seconds)
    return ReproductionReport(paths, reproduced, ordered, default, runs, unmatched, seconds)


def _context(roots, runs, reproduced, ordered, default, plots) -> dict:
    from collapsekit import __version__

    counts = runs["status"].value_counts()
    verdicts = reproduced["verdict"].value_counts()
    return {
        "title": TITLE,
        "version": __version__,
        "created": datetime.datetime.now().strftime("%Y-%m-%d %H:%M"),
        "sources": [str(root) for root in roots],
        "runs_count": len(runs),
        "status_text": ", ".join(f"{n} {status}" for status, n in counts.items()),
        "verdict_text": ", ".join(f"{verdicts.get(v, 0)} {v}" for v in VERDICTS),
        "published_orderings_table": orderings.orderings_table(ordered),
        "published_orderings_text": orderings.orderings_text(ordered),
        "reproduction_tables": reproduction_tables(reproduced[~stand_in_rows(reproduced)]),
        "stacked_tables": reproduction_tables(reproduced[stand_in_rows(reproduced)]),
        "stacked_protocol": (
            "PacGAN Table 3 (Metz et al.'s stacked MNIST, PacGAN's code)",
            METZ_PROTOCOL,
        ),
        "default_tables": default_tables(default),
        "ordering_table": ordering_table(default),
        "protocols": [
            (PAPER_SETTINGS[PACGAN_TABLE_1].name, PACGAN_PROTOCOL),
            (PAPER_SETTINGS[VEEGAN_TABLE_1].name, VEEGAN_PROTOCOL),
        ],
        "plots": plots,
    }


def _write(out: Path, context: dict, plots, tables: dict[str, pd.DataFrame]) -> dict[str, Path]:
    """Write the images, each CSV of ``tables`` (file name: frame), report.md and report.html."""
    ensure_writable_folder(out)
    write_images(plots, out)
    paths = {name.replace(".", "_"): out / name for name in tables}  # "orderings_csv": ...
    for name, frame in tables.items():
        atomic_write_text(out / name, frame.to_csv(index=False))
    paths["markdown"], paths["html"] = out / MARKDOWN, out / HTML
    atomic_write_text(
        paths["markdown"], render("reproductions.md.j2", {**context, "images": IMAGES})
    )
    atomic_write_text(paths["html"], render("reproductions.html.j2", context))
    return paths


# -- tables as text cells, in display units (high quality in percent) -------------------
PROSE = ("note", "protocol", "published ordering", "ours")
SHORT_HEADINGS = {PACGAN_REVERSE_KL: "reverse KL"}  # the table's name says whose definition


# Tables measured on data we stand in for (PacGAN Table 3's MNIST digits).
STAND_IN_TABLES = {setting.name for setting in PAPER_SETTINGS.values() if setting.stand_ins}


def stand_in_rows(frame: pd.DataFrame) -> pd.Series:
    """Which rows belong to tables measured on data we stand in for."""
    return frame["table"].isin(STAND_IN_TABLES)


def reproduction_tables(frame: pd.DataFrame) -> list[tuple[str, Table]]:
    """One table per published table and dataset: each published number beside ours.

    Tables measured on data we stand in for are ordered by our dataset and captioned
    with it: ``PacGAN Table 3 (MNIST), D = 1/4 G; ours on stacked-digits``.
    """
    columns = ["method", "metric", "published", "ours (95% CI)", "trials", "steps", "protocol"]
    columns += ["verdict", "note"]
    numeric = [False, False, True, True, True, True, False, False, False]
    groups = sorted(frame.groupby(["table", "dataset"], sort=False), key=_table_order)
    tables = []
    for (name, dataset), part in groups:
        table = Table(columns, numeric=numeric, prose=PROSE)
        for _, row in part.iterrows():
            metric = SHORT_HEADINGS.get(row["metric"]) or heading(row["metric"])
            cells = [row["method"], metric, published_cell(row)]
            cells += [estimate_cell(row), str(row["trials"]), row["steps"] or ""]
            cells += [row["protocol"], row["verdict"], row["note"]]
            table.rows.append([str(cell) for cell in cells])
        caption = f"{name}; ours on {dataset}" if name in STAND_IN_TABLES else f"{name}, {dataset}"
        tables.append((caption, table))
    return tables


def _table_order(group: tuple) -> tuple:
    """Tables in the CSV's order, but stand-in tables by our dataset (a stable sort)."""
    (name, dataset), _ = group
    return dataset_order(dataset) if name in STAND_IN_TABLES else (-1, "")


def default_tables(frame: pd.DataFrame) -> list[tuple[str, Table]]:
    """Per dataset: methods as rows, mean [95% interval] of each metric."""
    columns = ["method", "trials", "steps"] + [
        heading(metric) for metric in default_protocol.METRICS
    ]
    tables = []
    for dataset, part in frame.groupby("dataset", sort=False):
        table = Table(columns, numeric=[False, True, True] + [True] * len(default_protocol.METRICS))
        for method, rows in part.groupby("method", sort=False):
            by_metric = {row["metric"]: row for _, row in rows.iterrows()}
            first = rows.iloc[0]
            cells = [method, str(first["trials"]), first["steps"] or ""]
            cells += [estimate_cell(by_metric[metric]) for metric in default_protocol.METRICS]
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
        table.rows.append([row["dataset"], row["published_ordering"], row["holds"], row["note"]])
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
