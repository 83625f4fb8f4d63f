"""``collapsekit report``: compare runs in one self-contained HTML page, markdown and CSVs."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import click

from collapsekit.cli.common import clear_errors
from collapsekit.cli.threads import threads_option, use_threads


@click.command("report")
@click.argument("sources", nargs=-1, type=click.Path(path_type=Path))
@click.option(
    "--out",
    type=click.Path(path_type=Path),
    default=Path("reports/latest"),
    show_default=True,
    help="Folder that receives report.html, report.md, images/, summary.csv and comparison.csv.",
)
@click.option(
    "--title",
    default=None,
    help="Heading of the report  [default: collapsekit report: <datasets>].",
)
@threads_option
@clear_errors
def report_command(
    sources: tuple[Path, ...], out: Path, title: str | None, threads: int | None
) -> None:
    """Compare runs: models across seeds, published numbers, plots of samples, coverage and D.

    SOURCES are run folders or folders holding runs (any depth)  [default: runs].
    Unreadable folders are skipped with a warning; unfinished runs are included
    and marked.

    \b
    Examples:
      collapsekit report
      collapsekit report runs/ring-study runs/vanilla-grid25-seed0 --out reports/study --title "Ring study"
    """
    from collapsekit.report import build_report, loading

    use_threads(threads, "vector")  # tables and plots: no parallel work that pays for threads

    skips_logged = logging.getLogger(loading.__name__)
    skips_logged.disabled = True  # the skipped folders are listed below, one line each
    try:
        report = build_report(sources or (Path("runs"),), out, title)
    finally:
        skips_logged.disabled = False
    datasets = ", ".join(section.data for section in report.sections)
    count = len(report.records)
    click.echo(
        f"Report of {count} run{'s' if count != 1 else ''} on {datasets} ({report.seconds:.1f} s)"
    )
    for path, reason in report.skipped:  # the reason names the file: say the folder once
        click.echo(f"  skipped {path}: {reason.replace(path + os.sep, '')}", err=True)
    for kind in ("html", "markdown", "summary_csv", "comparison_csv"):
        click.echo(f"  {report.paths[kind]}")
