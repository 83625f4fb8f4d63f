"""Comparison reports of runs: which model covers which modes, how stably, and beside what.

``build_report`` reads run folders (the run store only), and writes one
self-contained ``report.html``, ``report.md`` with its ``images/``, ``summary.csv``
(one row per run) and ``comparison.csv`` (one row per dataset and model).
``build_reproductions`` puts published ring and grid numbers beside runs of
their papers' protocols, with a verdict each (``collapsekit.report.reproduction_report``).

Example:
    >>> from collapsekit.report import build_report
    >>> report = build_report(["runs"], "reports/latest")  # doctest: +SKIP
    >>> report.paths["html"]  # doctest: +SKIP
    PosixPath('reports/latest/report.html')
"""

from __future__ import annotations

import datetime
import logging
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from collapsekit.errors import CollapsekitError
from collapsekit.report.loading import RunRecord, load_records
from collapsekit.report.render import check_report_folder, write_report
from collapsekit.report.reproduction_report import ReproductionReport, build_reproductions
from collapsekit.report.sections import DatasetSection, dataset_sections, status_counts
from collapsekit.report.tables import comparison_table, summary_table

logger = logging.getLogger(__name__)

DEFAULT_TITLE = "collapsekit report"


@dataclass
class Report:
    """What ``build_report`` wrote: file paths, the runs read, the folders skipped, the time taken."""

    paths: dict[str, Path]
    records: list[RunRecord]
    skipped: list[tuple[str, str]]
    sections: list[DatasetSection]
    seconds: float


def build_report(
    sources: Sequence[str | os.PathLike] = ("runs",),
    out: str | os.PathLike = "reports/latest",
    title: str | None = None,
) -> Report:
    """Read every run under ``sources`` and write the report into ``out``.

    Args:
        sources: run folders, or folders holding runs at any depth.
        out: folder that receives report.html, report.md, images/, summary.csv, comparison.csv.
        title: the report's heading (default: "collapsekit report: <datasets>").

    Raises CollapsekitError when a source is missing or holds no readable run.
    """
    started = time.perf_counter()
    sources = [Path(source) for source in sources]
    check_report_folder(Path(out))  # before minutes of reading and plotting
    records, skipped = load_records(sources)
    if not records:
        where = ", ".join(str(s) for s in sources)
        raise CollapsekitError(
            f"no readable run under {where}; train one with `collapsekit run` "
            "or pass the folders of your runs"
        )
    sections = dataset_sections(records)
    context = _context(records, skipped, sections, sources, title)
    paths = write_report(context, Path(out))
    seconds = time.perf_counter() - started
    logger.info("report of %d runs written to %s in %.1f s", len(records), out, seconds)
    return Report(paths, records, skipped, sections, seconds)


def _context(records, skipped, sections, sources, title) -> dict:
    from collapsekit import __version__

    datasets = ", ".join(section.data for section in sections)
    return {
        "title": title or f"{DEFAULT_TITLE}: {datasets}",
        "version": __version__,
        "created": datetime.datetime.now().strftime("%Y-%m-%d %H:%M"),
        "sources": [str(source) for source in sources],
        "runs_count": len(records),
        "status_text": status_counts(records),
        "skipped": skipped,
        "sections": sections,
        "summary_frame": summary_table(records),
        "comparison_frame": comparison_table(records),
    }


__all__ = ["Report", "ReproductionReport", "build_report", "build_reproductions"]
