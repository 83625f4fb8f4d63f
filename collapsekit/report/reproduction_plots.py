"""Coverage curves of the reproduction report: has the ordering settled by the last step?

One figure per protocol, one panel per dataset: modes captured against step,
the mean over a method's seeds with a 95% t-interval band. Runs of one method
with different lengths (a few full-length runs beside shortened ones) are drawn
as separate lines, one line style per length, labelled by their steps.

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
    styled = bool((history[LENGTH] != "").any())
    with style():
        figure = new_figure(PANEL_SIZE * 2.2 * len(datasets), PANEL_SIZE * 1.5)
        axes = figure.subplots(1, len(datasets), squeeze=False)[0]
        for index, (ax, data) in enumerate(zip(axes, datasets, strict=True)):
            part = history[history["data_spec"] == data]
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
                legend=index == 0,
            )
            _mark_total(ax, part)
            ax.set_title(data, fontsize=9)
            ax.set_ylabel("modes captured")
        # A styled legend has two titled groups (method, length): one row keeps them apart.
        legend_below(figure, axes[0], columns=8 if styled else 4)
    caption = (
        f"Modes captured against training step under the {protocol} protocol, one panel per "
        "dataset: lines are the mean over a method's seeds, bands the 95% t-interval of that "
        "mean; dashed grey: all modes. Runs that have not finished add the evaluations they "
        "reached. Where a method has runs of different lengths, each length is its own line "
        "(line style, labelled by its steps). Where the lines still cross or their bands still "
        "overlap at the last step, the ordering has not settled."
    )
    title = f"Coverage against step, {protocol} protocol"
    return to_plot(figure, f"coverage-{slug(protocol)}", title, caption)


def _length_order(history: pd.DataFrame) -> list[str]:
    return [f"{int(s):,} steps" for s in sorted(set(history["planned_steps"].dropna()))]


def _mark_total(ax, part: pd.DataFrame) -> None:
    total = pd.to_numeric(part[keys.MODES_TOTAL], errors="coerce").max()
    if pd.notna(total):
        ax.axhline(total, color="grey", linestyle="--", linewidth=1)
        ax.set_ylim(-0.3, total + 0.8)
