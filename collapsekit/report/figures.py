"""What every report figure shares: the Plot record, PNG encoding, colours and panel layout.

Figures are built on ``matplotlib.figure.Figure`` directly, never through
pyplot, so making a report changes no global state and needs no display.

Example:
    >>> figure = new_figure(3, 2)
    >>> plot = to_plot(figure, "demo", "A title", "How to read it.")
    >>> plot.png[:4]
    b'\\x89PNG'
"""

from __future__ import annotations

import base64
import io
import math
import re
from dataclasses import dataclass

import seaborn as sns
from matplotlib.figure import Figure

from collapsekit.report.tables import confidence_interval

DPI = 96  # screen resolution: sharp in a browser, small files
PANEL_SIZE = 2.6  # inches per small-multiple panel
MAX_COLUMNS = 5  # panels per row before wrapping
COLORBAR_MARGIN = 1.3  # inches at the right of a panel grid for its colour bar


@dataclass
class Plot:
    """One rendered figure: file stem, title, caption (how to read it) and PNG bytes."""

    name: str
    title: str
    caption: str
    png: bytes

    @property
    def data_uri(self) -> str:
        """The PNG as a ``data:`` URI, so the HTML report holds its images."""
        return "data:image/png;base64," + base64.b64encode(self.png).decode("ascii")

    @property
    def filename(self) -> str:
        return f"{self.name}.png"


def style():
    """Seaborn's style as a context: figures made inside it look alike, nothing global changes."""
    return sns.axes_style("whitegrid")


def new_figure(width: float, height: float) -> Figure:
    return Figure(figsize=(width, height), dpi=DPI, layout="constrained")


def to_plot(figure: Figure, name: str, title: str, caption: str) -> Plot:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=DPI)
    return Plot(name=name, title=title, caption=caption, png=buffer.getvalue())


def slug(text: str) -> str:
    """A file-name-safe version of a dataset spec: ``ring8:std=0.01`` -> ``ring8_std=0.01``."""
    return re.sub(r"[^A-Za-z0-9_.=-]+", "_", text).strip("_") or "data"


def model_palette(labels: list[str]) -> dict[str, tuple]:
    """The same colour for a model in every figure of a report."""
    ordered = sorted(set(labels))
    return dict(zip(ordered, sns.color_palette("colorblind", len(ordered)), strict=True))


def t_band(values) -> tuple[float, float]:
    """Seaborn ``errorbar`` callable: the 95% t-interval of the mean (a point for one value)."""
    mean, low, high, n = confidence_interval(values)
    return (mean, mean) if n < 2 else (low, high)


def panel_grid(groups: dict[str, list]) -> tuple[Figure, dict[tuple[str, int], object]]:
    """Small multiples: one block of rows per group (model), up to MAX_COLUMNS panels a row.

    Returns the figure and its axes by (group, index within the group); unused
    cells are hidden. Margins are fixed (no constrained layout: with dozens of
    panels it costs more than drawing them); ``colorbar_axes`` fits the right margin.
    """
    columns = max(1, min(MAX_COLUMNS, max(len(items) for items in groups.values())))
    rows_per_group = {g: max(1, math.ceil(len(items) / columns)) for g, items in groups.items()}
    total_rows = sum(rows_per_group.values())
    width, height = PANEL_SIZE * columns + COLORBAR_MARGIN, (PANEL_SIZE + 0.45) * total_rows + 0.3
    figure = Figure(figsize=(width, height), dpi=DPI)
    grid = figure.subplots(
        total_rows,
        columns,
        squeeze=False,
        gridspec_kw={
            "left": 0.45 / width,
            "right": 1 - COLORBAR_MARGIN / width,
            "bottom": 0.35 / height,
            "top": 1 - 0.55 / height,
            "wspace": 0.25,
            "hspace": 0.45,
        },
    )
    axes, first_row = {}, 0
    for group, items in groups.items():
        for index in range(rows_per_group[group] * columns):
            ax = grid[first_row + index // columns][index % columns]
            if index < len(items):
                axes[(group, index)] = ax
            else:
                ax.set_visible(False)
        first_row += rows_per_group[group]
    return figure, axes


def colorbar_axes(figure: Figure):
    """An axes for a colour bar in the right margin left by ``panel_grid``."""
    width, height = figure.get_size_inches()
    left = 1 - (COLORBAR_MARGIN - 0.25) / width
    return figure.add_axes((left, 0.3, 0.15 / width, 0.4))
