"""Curves across seeds: coverage against step, D's outputs against step, final mode shares.

Each curve is the mean over a model's seeds with a 95% t-interval band (the
same interval as the tables), drawn with seaborn.

Example:
    >>> plot = coverage_plot("ring8", records, palette)  # doctest: +SKIP
    >>> plot.title  # doctest: +SKIP
    'Coverage against training step on ring8'
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
import seaborn as sns

from collapsekit.metrics import keys
from collapsekit.metrics.equilibrium import EQUILIBRIUM
from collapsekit.report.figures import PANEL_SIZE, Plot, new_figure, slug, style, t_band, to_plot
from collapsekit.report.loading import RunRecord

EQUILIBRIUM_POINTS = 200  # bins per run: enough to see trends, few enough to draw 30 runs fast
REAL, FAKE = "D(x)", "D(G(z))"


def coverage_plot(data: str, records: list[RunRecord], palette: dict) -> Plot | None:
    """Modes captured and high-quality share against step, per model, mean and band over seeds."""
    frame = _history_frame(records)
    if frame is None:
        return None
    with style():
        figure = new_figure(2 * PANEL_SIZE * 1.6, PANEL_SIZE * 1.3)
        left, right = figure.subplots(1, 2)
        sns.lineplot(
            frame,
            x=keys.STEP,
            y=keys.MODES_CAPTURED,
            hue="model",
            errorbar=t_band,
            palette=palette,
            ax=left,
        )
        sns.lineplot(
            frame,
            x=keys.STEP,
            y="high quality (%)",
            hue="model",
            errorbar=t_band,
            palette=palette,
            ax=right,
            legend=False,
        )
        total = frame[keys.MODES_TOTAL].max()
        if pd.notna(total):
            left.axhline(total, color="grey", linestyle="--", linewidth=1)
            left.set_ylim(-0.3, total + 0.8)
        right.set_ylim(-2, 102)
        left.set_ylabel("modes captured")
        legend_below(figure, left)
    caption = (
        "Modes captured (left; dashed: all modes) and the share of high-quality samples (right) at "
        "each evaluation. Lines are the mean over a model's seeds, bands the 95% confidence "
        "interval of that mean. Rising and flat means the model learns the modes and keeps them; "
        "a saw-tooth means modes are found and lost again."
    )
    return to_plot(
        figure, f"{slug(data)}-coverage", f"Coverage against training step on {data}", caption
    )


def legend_below(figure, ax, columns: int = 4) -> None:
    """Move ``ax``'s legend under the figure, ``columns`` entries a row: on the axes it covers
    the curves."""
    legend = ax.get_legend()
    if legend is None:
        return
    handles, labels = legend.legend_handles, [text.get_text() for text in legend.get_texts()]
    legend.remove()
    figure.legend(
        handles, labels, loc="outside lower center", ncols=min(len(labels), columns), frameon=False
    )


def _history_frame(records: list[RunRecord]) -> pd.DataFrame | None:
    parts = []
    for record in records:
        history = record.history
        if keys.MODES_CAPTURED not in history or keys.HIGH_QUALITY_FRAC not in history:
            continue
        part = history[[keys.STEP, keys.MODES_CAPTURED, keys.HIGH_QUALITY_FRAC]].astype(float)
        part["high quality (%)"] = 100 * part[keys.HIGH_QUALITY_FRAC]
        part[keys.MODES_TOTAL] = history.get(keys.MODES_TOTAL, np.nan)
        part["model"] = record.label
        parts.append(part)
    return pd.concat(parts, ignore_index=True) if parts else None


def equilibrium_plot(data: str, records: list[RunRecord]) -> Plot | None:
    """Mean D(x) and D(G(z)) against step, one panel per model, with the 1/2 line."""
    frame = _equilibrium_frame(records)
    if frame is None:
        return None
    models = sorted(frame["model"].unique())
    with style():
        figure = new_figure(PANEL_SIZE * 1.5 * len(models) + 0.5, PANEL_SIZE * 1.3)
        axes = figure.subplots(1, len(models), squeeze=False, sharey=True)[0]
        for ax, model in zip(axes, models, strict=True):
            part = frame[frame["model"] == model]
            sns.lineplot(
                part,
                x=keys.STEP,
                y="output",
                hue="of",
                errorbar=t_band,
                ax=ax,
                legend=ax is axes[0],
                palette={REAL: "#c0392b", FAKE: "#2471a3"},
            )
            ax.axhline(EQUILIBRIUM, color="black", linestyle="--", linewidth=1)
            ax.set_ylim(-0.02, 1.02)
            ax.set_title(model, fontsize=9)
            ax.set_ylabel("mean sigmoid(D)")
        legend_below(figure, axes[0])
    width = int(frame["bin_width"].max())
    caption = (
        f"Mean discriminator output sigmoid(D) on real batches ({REAL}) and generated batches "
        f"({FAKE}), averaged over bins of {width:,} step{'s' if width > 1 else ''}; lines are the mean "
        "over seeds, bands the 95% interval. Dashed: 1/2, the equilibrium of the original GAN game. "
        f"{REAL} near 1 with {FAKE} near 0: the discriminator dominates and the generator's "
        "gradients vanish. Both near 1/2 while modes are missing: the discriminator no longer "
        "sees the collapse."
    )
    return to_plot(figure, f"{slug(data)}-equilibrium", f"Discriminator outputs on {data}", caption)


def step_bin_width(records: list[RunRecord], points: int) -> int | None:
    """Steps per bin so that each run's per-step values fit in ``points`` bins; None if no steps."""
    last = max(
        (int(r.equilibrium[keys.STEP].max()) for r in records if len(r.equilibrium)), default=0
    )
    return max(1, -(-last // points)) if last > 0 else None  # ceil


def binned_runs_frame(
    records: list[RunRecord], points: int, bin_run: Callable[[pd.DataFrame, int], pd.DataFrame]
) -> pd.DataFrame | None:
    """Each run's per-step rows binned to about ``points`` bins of steps by ``bin_run(steps, width)``,
    labelled with its model and joined, with the bin width; None when no run has steps."""
    width = step_bin_width(records, points)
    if width is None:
        return None
    parts = []
    for record in records:
        if not len(record.equilibrium):
            continue
        part = bin_run(record.equilibrium, width)
        part["model"] = record.label
        parts.append(part)
    frame = pd.concat(parts, ignore_index=True)
    frame["bin_width"] = width
    return frame


def _equilibrium_frame(records: list[RunRecord]) -> pd.DataFrame | None:
    records = [r for r in records if keys.D_REAL in r.equilibrium.columns]  # critics: critic_plot
    return binned_runs_frame(records, EQUILIBRIUM_POINTS, _bin_outputs)


def _bin_outputs(steps: pd.DataFrame, width: int) -> pd.DataFrame:
    binned = steps.groupby((steps[keys.STEP] // width) * width).agg(
        {keys.D_REAL: "mean", keys.D_FAKE: "mean"}
    )
    binned = (
        binned.rename(columns={keys.D_REAL: REAL, keys.D_FAKE: FAKE})
        .rename_axis(keys.STEP)
        .reset_index()
    )
    return binned.melt(id_vars=keys.STEP, var_name="of", value_name="output")


def shares_plot(
    data: str, records: list[RunRecord], weights: np.ndarray | None, palette: dict
) -> Plot | None:
    """Per-mode share of the final samples (high quality) against the true weights."""
    frame = _shares_frame(records)
    if frame is None:
        return None
    modes = int(frame["mode"].max()) + 1
    if weights is None or len(weights) != modes:
        weights = np.full(modes, 1.0 / modes)
    with style():
        figure = new_figure(
            min(12.0, max(5.0, 0.25 * modes * len(palette) ** 0.5 + 1.5)), PANEL_SIZE * 1.3
        )
        ax = figure.subplots()
        sns.barplot(
            frame,
            x="mode",
            y="share",
            hue="model",
            order=list(range(modes)),
            errorbar=t_band,
            palette=palette,
            ax=ax,
            err_kws={"linewidth": 1},
        )
        ax.scatter(
            range(modes),
            weights,
            marker="_",
            s=250,
            color="black",
            linewidths=2,
            zorder=3,
            label="true weight",
        )
        ax.legend(fontsize=7)
        ax.set_ylabel("share of final samples")
        ax.set_ylim(bottom=0)
        ax.tick_params(axis="x", labelsize=6 if modes > 10 else 8)
    caption = (
        "Share of each run's final samples that lie, high quality, in each mode (bars: mean over "
        "seeds with the 95% interval), against the mode's true weight (black ticks). A perfect "
        "generator on 2-D Gaussians reaches 98.9% of each tick (the mass within 3 std); empty "
        "places are missed modes, tall bars are modes the generator piled onto."
    )
    return to_plot(figure, f"{slug(data)}-shares", f"Final per-mode shares on {data}", caption)


def _shares_frame(records: list[RunRecord]) -> pd.DataFrame | None:
    rows = []
    for record in records:
        counts, total = record.metrics.get(keys.MODE_COUNTS), record.metrics.get(keys.NUM_SAMPLES)
        if not isinstance(counts, list) or not total or len(counts) > 100:
            continue
        rows += [
            {"model": record.label, "mode": k, "share": c / total} for k, c in enumerate(counts)
        ]
    return pd.DataFrame(rows) if rows else None
