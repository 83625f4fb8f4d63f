"""Coverage curves of the reproduction report: has the ordering settled by the last step?

One figure per protocol, one panel per dataset: modes captured against step,
the mean over a method's seeds with a 95% t-interval band. Runs of one method
with different lengths (a few full-length runs beside shortened ones) are drawn
as separate lines labelled by their steps.

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
    model_palette,
    new_figure,
    slug,
    style,
    t_band,
    to_plot,
)
from collapsekit.report.sections import dataset_order

LINE = "method"


def coverage_plots(history: pd.DataFrame) -> list[Plot]:
    """One plot per protocol (``default`` first, then by name) of modes captured against step."""
    if not len(history):
        return []
    history = history.assign(**{LINE: line_labels(history)})
    palette = model_palette(list(history[LINE]))
    protocols = sorted(set(history["protocol"]), key=lambda p: (p != "default", p))
    return [_protocol_plot(p, history[history["protocol"] == p], palette) for p in protocols]


def line_labels(history: pd.DataFrame) -> list[str]:
    """Each row's line: the method's label, with its steps when that method (under the same
    protocol and data) has runs of more than one length: ``pacgan (pack=2), 50,000 steps``."""
    lengths = history.groupby(["protocol", "data_spec", "label"])["planned_steps"].nunique()
    labels = []
    for protocol, data, label, steps in zip(
        history["protocol"], history["data_spec"], history["label"], history["planned_steps"],
        strict=True,
    ):
        several = lengths[(protocol, data, label)] > 1
        labels.append(f"{label}, {int(steps):,} steps" if several and pd.notna(steps) else label)
    return labels


def _protocol_plot(protocol: str, history: pd.DataFrame, palette: dict) -> Plot:
    datasets = sorted(set(history["data_spec"]), key=dataset_order)
    with style():
        figure = new_figure(PANEL_SIZE * 2.2 * len(datasets), PANEL_SIZE * 1.5)
        axes = figure.subplots(1, len(datasets), squeeze=False)[0]
        for index, (ax, data) in enumerate(zip(axes, datasets, strict=True)):
            part = history[history["data_spec"] == data]
            sns.lineplot(
                part,
                x=keys.STEP,
                y=keys.MODES_CAPTURED,
                hue=LINE,
                hue_order=sorted(set(history[LINE])),
                errorbar=t_band,
                palette=palette,
                ax=ax,
                legend=index == 0,
            )
            _mark_total(ax, part)
            ax.set_title(data, fontsize=9)
            ax.set_ylabel("modes captured")
        legend_below(figure, axes[0])
    caption = (
        f"Modes captured against training step under the {protocol} protocol, one panel per "
        "dataset: lines are the mean over a method's seeds, bands the 95% t-interval of that "
        "mean; dashed: all modes. Runs that have not finished add the evaluations they reached. "
        "A method with runs of different lengths has one line per length, labelled by its "
        "steps. Where the lines still cross or their bands still overlap at the last step, "
        "the ordering has not settled."
    )
    title = f"Coverage against step, {protocol} protocol"
    return to_plot(figure, f"coverage-{slug(protocol)}", title, caption)


def _mark_total(ax, part: pd.DataFrame) -> None:
    total = pd.to_numeric(part[keys.MODES_TOTAL], errors="coerce").max()
    if pd.notna(total):
        ax.axhline(total, color="grey", linestyle="--", linewidth=1)
        ax.set_ylim(-0.3, total + 0.8)
