"""Coverage curves of the reproduction report: has the ordering settled by the last step?

One figure per protocol, one panel per dataset: modes captured against step,
the mean over a method's seeds with a 95% t-interval band. Under the metz
protocol each D width (a quarter or a half of G's channels) is its own row of
panels. Runs of one method with different lengths (a few full-length runs beside
shortened ones) are drawn as separate lines, one line style per length, labelled
by their steps.

Example:
    >>> plots = coverage_plots(histories(read_runs(["reports/reproductions/runs"])))  # doctest: +SKIP
    >>> [plot.name for plot in plots]  # doctest: +SKIP
    ['coverage-default', 'coverage-pacgan', 'coverage-veegan']
"""

from __future__ import annotations

import pandas as pd
import seaborn as sns

from collapsekit.metrics import keys
from collapsekit.report.curves import legend_below
from collapsekit.report.figures import (
    PANEL_SIZE,
    Plot,
    new_figure,
    slug,
    style,
    t_band,
    to_plot,
)
from collapsekit.report.sections import dataset_order

METHOD, LENGTH = "method", "length"
D_WIDTHS = {"": "", "quarter": "D = 1/4 G", "half": "D = 1/2 G", "full": "D = G"}


def coverage_plots(history: pd.DataFrame) -> list[Plot]:
    """One plot per protocol (``default`` first, then by name) of modes captured against step."""
    if not len(history):
        return []
    history = history.assign(**{METHOD: history["label"], LENGTH: length_labels(history)})
    palette = method_palette(list(history[METHOD]))
    protocols = sorted(set(history["protocol"]), key=lambda p: (p != "default", p))
    return [_protocol_plot(p, history[history["protocol"] == p], palette) for p in protocols]


def method_palette(labels: list[str]) -> dict[str, tuple]:
    """A colour per method, the same in every figure; seaborn's colour-blind palette with
    its orange and vermilion apart (their 2nd and 4th colours look alike side by side)."""
    colours = sns.color_palette("colorblind", 10)
    order = [0, 1, 2, 4, 3, 5, 6, 7, 8, 9]
    return {label: colours[order[i % 10]] for i, label in enumerate(sorted(set(labels)))}


def length_labels(history: pd.DataFrame) -> list[str]:
    """Each row's run length, ``"50,000 steps"``, under protocols where some method has runs
    of more than one length (then each length is its own line style); "" elsewhere."""
    lengths = history.groupby(["protocol", "label"])["planned_steps"].nunique()
    mixed = {protocol for (protocol, _), count in lengths.items() if count > 1}
    return [
        f"{int(steps):,} steps" if protocol in mixed and pd.notna(steps) else ""
        for protocol, steps in zip(history["protocol"], history["planned_steps"], strict=True)
    ]


def _protocol_plot(protocol: str, history: pd.DataFrame, palette: dict) -> Plot:
    datasets = sorted(set(history["data_spec"]), key=dataset_order)
    widths = sorted(set(history["d_width"]), key=_width_order)  # [""] but for the metz nets
    styled = bool((history[LENGTH] != "").any())
    with style():
        figure = new_figure(PANEL_SIZE * 2.2 * len(datasets), PANEL_SIZE * 1.5 * len(widths))
        axes = figure.subplots(len(widths), len(datasets), squeeze=False)
        drawn = []
        for row, width in enumerate(widths):
            for column, data in enumerate(datasets):
                part = history[(history["data_spec"] == data) & (history["d_width"] == width)]
                ax = axes[row][column]
                ax.set_title(", ".join(filter(None, [data, D_WIDTHS.get(width, width)])), fontsize=9)
                if len(part):
                    _draw_panel(ax, part, history, palette, styled, legend=not drawn)
                    drawn.append(ax)
        # A styled legend has two titled groups (method, length): one row keeps them apart.
        legend_below(figure, drawn[0], columns=8 if styled else 4)
    return to_plot(figure, f"coverage-{slug(protocol)}", *_title_and_caption(protocol, widths))


def _draw_panel(
    ax, part: pd.DataFrame, history: pd.DataFrame, palette: dict, styled: bool, legend: bool
) -> None:
    """One panel: each method's mean modes captured against step with its 95% band."""
    sns.lineplot(
        part,
        x=keys.STEP,
        y=keys.MODES_CAPTURED,
        hue=METHOD,
        hue_order=sorted(set(history[METHOD])),
        style=LENGTH if styled else None,
        style_order=_length_order(history) if styled else None,
        errorbar=t_band,
        palette=palette,
        ax=ax,
        legend=legend,
    )
    _mark_total(ax, part)
    ax.set_ylabel("modes captured")


def _title_and_caption(protocol: str, widths: list[str]) -> tuple[str, str]:
    panels = "one panel per dataset"
    if widths != [""]:
        panels += " and D width (D = 1/4 G: D has a quarter of G's channels)"
    caption = (
        f"Modes captured against training step under the {protocol} protocol, {panels}: "
        "lines are the mean over a method's seeds, bands the 95% t-interval of that "
        "mean; dashed grey: all modes. Runs that have not finished add the evaluations they "
        "reached. Where a method has runs of different lengths, each length is its own line "
        "(line style, labelled by its steps). Where the lines still cross or their bands still "
        "overlap at the last step, the ordering has not settled."
    )
    return f"Coverage against step, {protocol} protocol", caption


def _width_order(width: str) -> int:
    return list(D_WIDTHS).index(width) if width in D_WIDTHS else len(D_WIDTHS)


def _length_order(history: pd.DataFrame) -> list[str]:
    return [f"{int(s):,} steps" for s in sorted(set(history["planned_steps"].dropna()))]


def _mark_total(ax, part: pd.DataFrame) -> None:
    total = pd.to_numeric(part[keys.MODES_TOTAL], errors="coerce").max()
    if pd.notna(total):
        ax.axhline(total, color="grey", linestyle="--", linewidth=1)
        margin = max(0.8, 0.03 * total)  # 1,000 modes: the dashed line clear of the frame
        ax.set_ylim(-0.375 * margin, total + margin)  # ring and grid: -0.3 to total + 0.8
