"""Write a report's files: report.html (self-contained), report.md with images/, and CSVs.

HTML is rendered with autoescaping on, so run names holding ``<``, ``&`` or
quotes appear as text. Markdown cells are escaped with backslashes the same way.
Every file goes through ``collapsekit.atomic``.

Example:
    >>> write_report(context, Path("reports/latest"))  # doctest: +SKIP
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import jinja2
from markupsafe import Markup, escape

from collapsekit.atomic import atomic_write_bytes, atomic_write_text
from collapsekit.errors import CollapsekitError
from collapsekit.runs import ensure_writable_folder

IMAGES = "images"
HTML, MARKDOWN, SUMMARY_CSV, COMPARISON_CSV = (
    "report.html",
    "report.md",
    "summary.csv",
    "comparison.csv",
)
MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]<>|#&])")


def markdown_escape(value: object) -> str:
    """Text that markdown shows literally, on one line (table cells may not hold newlines).

    Example:
        >>> markdown_escape("a|b <c> & d_e")
        'a\\\\|b \\\\<c\\\\> \\\\& d\\\\_e'
    """
    return MARKDOWN_SPECIAL.sub(r"\\\1", " ".join(str(value).split()))


def _css_class(name: str) -> Markup:
    """`` class="name"`` for a tag, or nothing; names come from ``Table.column_class`` only."""
    return Markup(f' class="{escape(name)}"' if name else "")


def _environment() -> jinja2.Environment:
    environment = jinja2.Environment(
        loader=jinja2.PackageLoader("collapsekit.report", "templates"),
        autoescape=jinja2.select_autoescape(
            enabled_extensions=("html.j2",), default_for_string=False
        ),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    environment.filters["md"] = markdown_escape
    environment.filters["css_class"] = _css_class
    return environment


def render(template: str, context: dict) -> str:
    return _environment().get_template(template).render(**context)


def check_report_folder(out: Path) -> None:
    """Refuse, before any work, an ``out`` whose report files are folders (or images/ a file)."""
    ensure_writable_folder(out)
    for name in (HTML, MARKDOWN, SUMMARY_CSV, COMPARISON_CSV):
        if (out / name).is_dir():
            raise CollapsekitError(
                f"{out / name} is a folder, where the report writes a file; "
                "remove it or choose another --out"
            )
    if (out / IMAGES).exists() and not (out / IMAGES).is_dir():
        raise CollapsekitError(
            f"{out / IMAGES} is a file, where the report keeps its images; "
            "remove it or choose another --out"
        )


def write_report(context: dict, out: Path) -> dict[str, Path]:
    """Write every file of the report into ``out``; return their paths by kind."""
    check_report_folder(out)
    write_images([plot for section in context["sections"] for plot in section.plots], out)
    paths = {
        "html": out / HTML,
        "markdown": out / MARKDOWN,
        "summary_csv": out / SUMMARY_CSV,
        "comparison_csv": out / COMPARISON_CSV,
    }
    atomic_write_text(paths["html"], render("report.html.j2", context))
    atomic_write_text(paths["markdown"], render("report.md.j2", {**context, "images": IMAGES}))
    atomic_write_text(
        paths["summary_csv"], _relative_run_dirs(context["summary_frame"], out).to_csv(index=False)
    )
    atomic_write_text(paths["comparison_csv"], context["comparison_frame"].to_csv(index=False))
    return paths


def write_images(plots: list, out: Path) -> None:
    """Write each plot's PNG into ``out/images/`` and remove PNGs of an earlier report there."""
    images = out / IMAGES
    images.mkdir(exist_ok=True)
    for plot in plots:
        atomic_write_bytes(images / plot.filename, plot.png)
    _remove_stale_images(images, {plot.filename for plot in plots})


def _relative_run_dirs(frame, out: Path):
    """The frame with each ``run_dir`` relative to the report's folder, so a report committed
    or copied together with its runs still points at them."""
    frame = frame.copy()
    frame["run_dir"] = [_relative_to(Path(path), out) for path in frame["run_dir"]]
    return frame


def _relative_to(path: Path, folder: Path) -> str:
    """``path`` relative to ``folder`` when the two share a folder below the file system's
    root (a project, a home); absolute otherwise (``/tmp/report`` and ``/data/runs``, or
    other Windows drives), where ``../..`` up to the root would only obscure it."""
    path, folder = path.resolve(), folder.resolve()
    try:
        common = Path(os.path.commonpath([path, folder]))
    except ValueError:  # other drives
        return str(path)
    if common == Path(common.anchor):
        return str(path)
    return Path(os.path.relpath(path, folder)).as_posix()


def _remove_stale_images(images: Path, keep: set[str]) -> None:
    """Drop PNGs of an earlier report (other datasets) so report.md never links to old pictures."""
    for path in images.glob("*.png"):
        if path.name not in keep:
            path.unlink(missing_ok=True)
