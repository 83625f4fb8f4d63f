"""``collapsekit reproductions``: published ring, grid and stacked-MNIST numbers beside ours."""

from __future__ import annotations

from pathlib import Path

import click

from collapsekit.cli.common import clear_errors

SHOWN = ["table", "dataset", "method", "metric", "published", "ours", "ours_ci95", "trials", "steps"]
SHOWN += ["verdict"]


@click.command("reproductions")
@click.argument("roots", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option(
    "--out",
    type=click.Path(path_type=Path),
    required=True,
    help="Folder that receives reproductions.csv, orderings.csv, default_protocol.csv, report.md, report.html.",
)
@click.option(
    "--notes",
    type=click.Path(path_type=Path),
    default=None,
    help="CSV with table,dataset,method,metric,note: notes appended to the matching rows.",
)
@clear_errors
def reproductions_command(roots: tuple[Path, ...], out: Path, notes: Path | None) -> None:
    """Put PacGAN's and VEEGAN's ring and grid tables, and PacGAN Table 3, beside runs
    of their own protocols.

    ROOTS are folders holding run folders at any depth (runs made with --protocol
    pacgan, veegan or metz, and default-protocol runs for the second table). PacGAN
    Table 3 was measured on MNIST digits: beside stacked-digits and stacked-fashion
    runs only its ordering compares.
    Each published number gets our mean over finished runs, its 95% interval and
    a verdict: reproduced, ordering reproduced or not reproduced (see docs/report.md).

    \b
    Example:
      collapsekit reproductions reports/reproductions/runs reports/reference/runs \\
          --out reports/reproductions --notes reports/reproductions/notes.csv
    """
    from collapsekit.report import build_reproductions

    report = build_reproductions(roots, out, notes)
    table = report.reproductions[SHOWN].astype(object).fillna("")
    click.echo(table.to_string(index=False))
    click.echo("Published orderings in modes captured:")
    shown = ["table", "dataset", "steps", "published_ordering", "holds"]
    click.echo(report.orderings[shown].to_string(index=False))
    count = len(report.runs)
    click.echo(f"Reproduction report of {count} run{'s' if count != 1 else ''} ({report.seconds:.1f} s)")
    for key in report.unmatched_notes:
        click.echo(f"  note matches no row: {', '.join(filter(None, key))}", err=True)
    for path in report.paths.values():
        click.echo(f"  {path}")
