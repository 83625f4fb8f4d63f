"""A WGAN critic's Wasserstein estimate against step (runs observed with ``kind="critic"``).

A critic's raw scores have a free common offset (the WGAN loss ignores it), so
the plot shows what measures the game: E[C(x)] - E[C(G(z))] per step, binned.

Example:
    >>> plot = critic_plot("ring8", records)  # doctest: +SKIP
    >>> plot.title  # doctest: +SKIP
    'Critic: Wasserstein estimate on ring8'
"""

from __future__ import annotations

import pandas as pd
import seaborn as sns

from collapsekit.metrics import keys
from collapsekit.report.curves import binned_runs_frame
from collapsekit.report.figures import PANEL_SIZE, Plot, new_figure, slug, style, t_band, to_plot
from collapsekit.report.loading import RunRecord

CRITIC_POINTS = 200  # bins per run


def critic_plot(data: str, records: list[RunRecord]) -> Plot | None:
    """Mean Wasserstein estimate against step, one line per model (mean and band over seeds)."""
    frame = _estimate_frame([r for r in records if keys.CRITIC_REAL in r.equilibrium.columns])
    if frame is None:
        return None
    with style():
        figure = new_figure(PANEL_SIZE * 2, PANEL_SIZE * 1.3)
        ax = figure.subplots()
        sns.lineplot(frame, x=keys.STEP, y="estimate", hue="model", errorbar=t_band, ax=ax)
        ax.axhline(0, color="black", linestyle="--", linewidth=1)
        ax.set_ylabel("critic: E[C(x)] - E[C(G(z))]")
    width = int(frame["bin_width"].max())
    caption = (
        "The critic's Wasserstein estimate, mean critic score on real batches minus on generated "
        f"batches, averaged over bins of {width:,} step{'s' if width > 1 else ''}; lines are the "
        "mean over seeds, bands the 95% interval. The critic's raw scores are not shown: their "
        "common offset is free and may drift without meaning. An estimate that keeps growing: the "
        "critic is exploding or pulling ahead; near 0 (dashed) while modes are missing: the critic "
        "no longer sees the collapse."
    )
    return to_plot(
        figure, f"{slug(data)}-critic", f"Critic: Wasserstein estimate on {data}", caption
    )


def _estimate_frame(records: list[RunRecord]) -> pd.DataFrame | None:
    return binned_runs_frame(records, CRITIC_POINTS, _bin_estimate)


def _bin_estimate(steps: pd.DataFrame, width: int) -> pd.DataFrame:
    estimate = steps[keys.CRITIC_REAL] - steps[keys.CRITIC_FAKE]
    binned = estimate.groupby((steps[keys.STEP] // width) * width).mean()
    return binned.rename("estimate").rename_axis(keys.STEP).reset_index()
