"""Tables as text cells for the HTML and markdown templates: headings, number formats, CIs.

The templates receive :class:`Table` objects whose cells are plain strings; the
HTML template escapes them, the markdown template escapes them its own way.

Example:
    >>> format_value("high_quality_frac", 0.356)
    '35.6'
    >>> format_estimate("modes_captured", 4.0, 2.0, 6.0, n=3, runs=3)
    '4.0 ± 2.0'
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass, field

import pandas as pd

from collapsekit.metrics import keys
from collapsekit.report.published import PACGAN_REVERSE_KL, PublishedResult

HEADINGS = {
    keys.MODES_CAPTURED: "modes captured",
    keys.MODES_COVERED: "modes covered (robust)",
    keys.HIGH_QUALITY_FRAC: "high quality (%)",
    keys.MODE_KL: "mode KL (nats)",
    keys.D_REAL: "D(x)",
    keys.D_FAKE: "D(G(z))",
    keys.D_GAP: "D(x) - D(G(z))",
    keys.D_REAL_STD: "sd of D(x)",
    keys.D_FAKE_STD: "sd of D(G(z))",
    keys.CRITIC_REAL: "critic C(x)",
    keys.CRITIC_FAKE: "critic C(G(z))",
    keys.WASSERSTEIN_ESTIMATE: "critic: Wasserstein estimate",
    keys.CRITIC_REAL_STD: "sd of critic C(x)",
    keys.CRITIC_FAKE_STD: "sd of critic C(G(z))",
    keys.WASSERSTEIN_ESTIMATE_STD: "sd of the Wasserstein estimate",
    PACGAN_REVERSE_KL: "reverse KL (PacGAN's definition)",
}
PERCENT = {keys.HIGH_QUALITY_FRAC}
ONE_DECIMAL = {keys.MODES_CAPTURED, keys.MODES_COVERED}
PUBLISHED_METRICS = [keys.MODES_CAPTURED, keys.HIGH_QUALITY_FRAC, keys.MODE_KL, PACGAN_REVERSE_KL]


@dataclass
class Table:
    """Header and rows of text cells; ``numeric[i]`` right-aligns column i.

    Cells stay on one line, except in the columns named in ``prose`` (findings, diagnosis).
    """

    columns: list[str]
    rows: list[list[str]] = field(default_factory=list)
    numeric: list[bool] = field(default_factory=list)
    prose: tuple[str, ...] = ("diagnosis", "findings")

    def column_class(self, index: int) -> str:
        """CSS class of column ``index``: ``num`` (right-aligned), ``prose`` (wraps) or none."""
        if self.numeric[index]:
            return "num"
        return "prose" if self.columns[index] in self.prose else ""


def heading(name: str) -> str:
    return HEADINGS.get(name, name.replace("_", " "))


def format_value(name: str, value: object, exact: bool = False) -> str:
    """One number in the metric's unit and precision; ``exact``: whole counts without decimals."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        return str(value)
    if name in PERCENT:
        return f"{100 * value:.1f}"
    if isinstance(value, numbers.Integral) or (
        name in ONE_DECIMAL and exact and float(value).is_integer()
    ):
        return f"{int(value):,}"
    if name in ONE_DECIMAL:
        return f"{value:.1f}"
    return f"{value:.3g}"


def format_estimate(name: str, mean: float, low: float, high: float, n: int, runs: int) -> str:
    """``mean ± half-width`` of the 95% interval; says when fewer seeds than runs had a value."""
    if n == 0:
        return "n/a"
    text = format_value(name, mean)
    if not math.isnan(low):
        text += f" ± {format_half_width(name, (high - low) / 2)}"
    if n < runs:
        text += f" ({n} of {runs})"
    return text


def format_half_width(name: str, half: float) -> str:
    """An interval's half width (or a standard error) in the metric's unit."""
    if name in PERCENT:
        return f"{100 * half:.1f}"
    if name in ONE_DECIMAL:
        return f"{half:.1f}"
    return f"{half:.2g}"


def comparison_display(frame: pd.DataFrame, metrics: list[str], with_diagnosis: bool) -> Table:
    """The comparison table of one dataset: models as rows, mean ± 95% CI of each metric."""
    present = [m for m in metrics if f"{m}_n" in frame and frame[f"{m}_n"].sum() > 0]
    columns = ["model", "seeds", "status"] + [heading(m) for m in present]
    columns += ["diagnosis"] if with_diagnosis else []
    table = Table(
        columns, numeric=[False, False, False] + [True] * len(present) + [False] * with_diagnosis
    )
    for _, row in frame.iterrows():
        cells = [row["model"], f"{row['runs']} ({row['seeds']})", row["status"]]
        cells += [_estimate_cell(row, m) for m in present]
        if with_diagnosis:
            cells.append(row["diagnosis"] or "none")
        table.rows.append([str(c) for c in cells])
    return table


def runs_display(frame: pd.DataFrame, metrics: list[str], with_findings: bool) -> Table:
    """One row per run of one dataset: status, last step and the main final metrics."""
    shown = [m for m in metrics if m in frame and frame[m].notna().any()]
    columns = ["run", "model", "seed", "status", "step"] + [heading(m) for m in shown]
    columns += ["findings"] if with_findings else []
    table = Table(
        columns,
        numeric=[False, False, True, False, True] + [True] * len(shown) + [False] * with_findings,
    )
    for _, row in frame.iterrows():
        step = "n/a" if pd.isna(row["step"]) else f"{int(row['step']):,}"
        cells = [row["run_id"], row["model"], row["seed"], row["status"], step]
        cells += [format_value(m, row[m], exact=True) for m in shown]
        cells += [row["findings"] or "none"] if with_findings else []
        table.rows.append([str(c) for c in cells])
    return table


def published_display(
    ours: pd.DataFrame, published: list[PublishedResult], our_protocol: str
) -> tuple[Table, list[str]]:
    """Our models' means beside the published numbers for one dataset, and the protocol notes.

    The ``protocol`` column holds a note number; ``notes[i - 1]`` is protocol i in words.
    """
    notes = [our_protocol] + list(dict.fromkeys(result.protocol for result in published))
    columns = ["source", "method"] + [heading(m) for m in PUBLISHED_METRICS] + ["protocol"]
    table = Table(columns, numeric=[False, False] + [True] * len(PUBLISHED_METRICS) + [False])
    for _, row in ours.iterrows():
        cells = ["collapsekit (this report)", row["model"]]
        cells += [_estimate_cell(row, m) for m in PUBLISHED_METRICS]
        table.rows.append(cells + ["[1]"])
    for (source, method), results in _by_source_and_method(published).items():
        values = {r.metric: r for r in results}
        cells = [source, method] + [_published_cell(values.get(m)) for m in PUBLISHED_METRICS]
        table.rows.append(cells + [f"[{notes.index(results[0].protocol) + 1}]"])
    return table, notes


def _estimate_cell(row: pd.Series, name: str) -> str:
    if f"{name}_mean" not in row:
        return ""
    low, high = row[f"{name}_ci_low"], row[f"{name}_ci_high"]
    return format_estimate(
        name, row[f"{name}_mean"], low, high, int(row[f"{name}_n"]), int(row["runs"])
    )


def _published_cell(result: PublishedResult | None) -> str:
    if result is None:
        return ""
    text = format_value(result.metric, result.value)
    if result.error is not None:
        text += f" ± {format_half_width(result.metric, result.error)}"
    return text


def _by_source_and_method(
    published: list[PublishedResult],
) -> dict[tuple[str, str], list[PublishedResult]]:
    grouped: dict[tuple[str, str], list[PublishedResult]] = {}
    for result in published:
        grouped.setdefault((result.source, result.method), []).append(result)
    return grouped
