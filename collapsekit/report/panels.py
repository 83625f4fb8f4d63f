"""Per-run small multiples: final 2-D samples over D's map, and the mode timeline.

One panel per run, one block of rows per model, so a reader compares seeds
side by side and models from block to block.

Example:
    >>> plot = samples_plot("ring8", records, get_dataset("ring8"), palette)  # doctest: +SKIP
    >>> plot.name  # doctest: +SKIP
    'ring8-samples'
"""

from __future__ import annotations

import numpy as np
from matplotlib.patches import Circle

from collapsekit.data.base import Dataset
from collapsekit.metrics import keys
from collapsekit.report.figures import Plot, colorbar_axes, panel_grid, slug, style, to_plot
from collapsekit.report.loading import RunRecord

MAP_COLOURS = "RdBu_r"  # sigmoid(D): blue 0 (called fake), white 1/2, red 1 (called real)
TIMELINE_COLOURS = "Blues"  # white: mode missed
MAX_TIMELINE_MODES = 100  # beyond this a mode-by-step picture is unreadable
# A panel heading longer than this (at 8 pt) would run into the next panel's: break it after the label.
HEADING_CHARS = 36


def by_model(records: list[RunRecord]) -> dict[str, list[RunRecord]]:
    """Records grouped by model label, each group in seed order."""
    groups: dict[str, list[RunRecord]] = {}
    for record in sorted(records, key=lambda r: (r.label, str(r.seed).zfill(8), r.run_id)):
        groups.setdefault(record.label, []).append(record)
    return groups


def samples_plot(data: str, records: list[RunRecord], dataset: Dataset | None) -> Plot | None:
    """Final samples over the mode centres, 3-std circles and D's output; None if not 2-D."""
    records = [r for r in records if r.final_samples is not None and r.final_samples.ndim == 2]
    records = [r for r in records if r.final_samples.shape[1] == 2]
    if not records:
        return None
    centres, radius = _modes(dataset)
    groups = by_model(records)
    with style():
        figure, axes = panel_grid(groups)
        image = None
        for (label, index), ax in axes.items():
            image = _samples_panel(ax, groups[label][index], centres, radius) or image
        if image is not None:
            figure.colorbar(image, cax=colorbar_axes(figure), label="sigmoid(D) at the end")
    caption = (
        "Final samples of each run (dots) over the true mode centres (+) and their 3-std circles, "
        "inside which a sample counts as high quality. Shading: the discriminator's output "
        "sigmoid(D) at the end of training, red where it calls a point real, blue where it calls "
        "it fake, white at 1/2. A collapsed generator fills few circles; dots between circles are "
        "low quality. Panels without shading come from runs that stored no map."
    )
    return to_plot(figure, f"{slug(data)}-samples", f"Final samples on {data}", caption)


def _modes(dataset: Dataset | None) -> tuple[np.ndarray | None, float | None]:
    centres = getattr(dataset, "centres", None)
    if centres is None or centres.shape[1] != 2:
        return None, None
    return centres.numpy(), float(dataset.quality_radius)


def _samples_panel(ax, record: RunRecord, centres, radius):
    samples = record.final_samples  # (N, 2)
    extent = _extent(record, centres, radius, samples)
    image = None
    if record.d_map is not None:
        grid = record.d_map
        bounds = [grid["x"][0], grid["x"][-1], grid["y"][0], grid["y"][-1]]
        image = ax.imshow(
            grid["values"],
            extent=bounds,
            origin="lower",
            cmap=MAP_COLOURS,
            vmin=0,
            vmax=1,
            alpha=0.8,
        )
    if centres is not None:
        for centre in centres:
            ax.add_patch(Circle(centre, radius, fill=False, linewidth=0.7, edgecolor="black"))
        ax.scatter(centres[:, 0], centres[:, 1], marker="+", s=30, color="black", linewidths=0.8)
    ax.scatter(
        samples[:, 0],
        samples[:, 1],
        s=1.5,
        color="#1a1a1a",
        alpha=0.5,
        linewidths=0,
        rasterized=True,
    )
    ax.set_xlim(extent[0], extent[1])
    ax.set_ylim(extent[2], extent[3])
    ax.set_aspect("equal")
    ax.set_title(_panel_title(record, samples, extent), fontsize=8)
    ax.set_xticks([])  # panels share the data's scale; tick labels would cost more than they tell
    ax.set_yticks([])
    return image


def _extent(record: RunRecord, centres, radius, samples) -> list[float]:
    if record.d_map is not None:
        grid = record.d_map
        return [grid["x"][0], grid["x"][-1], grid["y"][0], grid["y"][-1]]
    points = centres if centres is not None else samples[np.isfinite(samples).all(axis=1)]
    if points is None or len(points) == 0:
        return [-1.0, 1.0, -1.0, 1.0]
    low, high = points.min(axis=0), points.max(axis=0)
    margin = 0.25 * (high - low) + (radius or 0.0) + 1e-6
    return [low[0] - margin[0], high[0] + margin[0], low[1] - margin[1], high[1] + margin[1]]


def panel_heading(record: RunRecord) -> str:
    """``model (options) · seed N [status]``, broken after the label where one line would
    run into the next panel's heading."""
    status = "" if record.status == "finished" else f" [{record.status}]"
    seed = f"seed {record.seed}{status}"
    one_line = f"{record.label} · {seed}"
    return one_line if len(one_line) <= HEADING_CHARS else f"{record.label}\n{seed}"


def _panel_title(record: RunRecord, samples: np.ndarray, extent: list[float]) -> str:
    metrics = record.metrics
    title = panel_heading(record)
    if metrics.get(keys.MODES_CAPTURED) is not None and metrics.get(keys.MODES_TOTAL) is not None:
        title += f"\n{metrics[keys.MODES_CAPTURED]:.0f}/{metrics[keys.MODES_TOTAL]:.0f} modes"
    if metrics.get(keys.HIGH_QUALITY_FRAC) is not None:
        title += f", {100 * metrics[keys.HIGH_QUALITY_FRAC]:.0f}% HQ"
    x, y = samples[:, 0], samples[:, 1]
    outside = int(
        (~((x >= extent[0]) & (x <= extent[1]) & (y >= extent[2]) & (y <= extent[3]))).sum()
    )
    return title + (f", {outside} outside" if outside else "")


def timeline_plot(data: str, records: list[RunRecord], weights: np.ndarray | None) -> Plot | None:
    """Modes (rows) covered at each evaluation (columns), one heatmap per run."""
    matrices = {r.path: _coverage_matrix(r, weights) for r in records}
    records = [r for r in records if matrices[r.path] is not None]
    if not records:
        return None
    groups = by_model(records)
    with style():
        figure, axes = panel_grid(groups)
        for (label, index), ax in axes.items():
            record = groups[label][index]
            steps, matrix = matrices[record.path]
            image = ax.imshow(
                matrix,
                aspect="auto",
                cmap=TIMELINE_COLOURS,
                vmin=0,
                vmax=1,
                interpolation="nearest",
            )
            _timeline_axes(ax, record, steps, matrix.shape[0])
        figure.colorbar(image, cax=colorbar_axes(figure), label="share of fair share (capped at 1)")
    caption = (
        "Which modes each run covers at each evaluation: one row per mode, one column per "
        "evaluation (training step along the bottom). Colour: the mode's high-quality samples as "
        "a share of what it would hold under the true weights, capped at 1: dark = fully covered, "
        "white = missed. A collapse shows as a few dark rows; mode hopping shows as dark cells "
        "that move from row to row over time."
    )
    return to_plot(figure, f"{slug(data)}-timeline", f"Mode timeline on {data}", caption)


def _coverage_matrix(record: RunRecord, weights: np.ndarray | None):
    history = record.history
    if keys.MODE_COUNTS not in history or keys.NUM_SAMPLES not in history:
        return None
    rows = [
        (s, c, n)
        for s, c, n in zip(
            history[keys.STEP], history[keys.MODE_COUNTS], history[keys.NUM_SAMPLES], strict=True
        )
        if isinstance(c, list) and n > 0
    ]
    if not rows or len(rows[0][1]) > MAX_TIMELINE_MODES:
        return None
    modes = len(rows[0][1])
    if weights is None or len(weights) != modes:
        weights = np.full(modes, 1.0 / modes)
    counts = np.array([c for _, c, _ in rows], dtype=np.float64)  # (E, K)
    expected = (
        np.array([n for _, _, n in rows], dtype=np.float64)[:, None] * weights[None, :]
    )  # (E, K)
    return [s for s, _, _ in rows], np.minimum(counts / expected, 1.0).T  # (K, E)


def _timeline_axes(ax, record: RunRecord, steps: list, modes: int) -> None:
    ticks = sorted({0, len(steps) // 2, len(steps) - 1})
    ax.set_xticks(ticks, [f"{int(steps[t]):,}" for t in ticks], fontsize=6, rotation=0)
    ax.grid(False)
    every = max(1, modes // 8)
    ax.set_yticks(
        list(range(0, modes, every)),
        [str(k) for k in range(0, modes, every)],
        fontsize=6,
    )
    ax.set_title(panel_heading(record), fontsize=8)
    ax.set_ylabel("mode", fontsize=7)
