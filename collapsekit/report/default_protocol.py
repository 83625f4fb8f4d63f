"""The default-protocol table: the bundled models under collapsekit's own settings.

Vanilla, unrolled, minibatch and PacGAN2 on ring8 and grid25, measured under the
``default`` protocol (not the papers'): mean and 95% t-interval over finished
runs of modes captured, high-quality share and mode KL. The papers' orderings in
modes captured (VEEGAN: unrolled above GAN; PacGAN: PacGAN2 above GAN) are
checked on these runs: an ordering holds when our intervals are separated in
the published direction.

Example:
    >>> table = default_protocol_table(read_runs(["reports/reference/runs"]))  # doctest: +SKIP
    >>> table.query("metric == 'modes_captured'")[["dataset", "method", "holds"]]  # doctest: +SKIP
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from collapsekit.metrics import keys
from collapsekit.report.published import (
    PACGAN_TABLE_1,
    PAPER_SETTINGS,
    PUBLISHED,
    VEEGAN_TABLE_1,
)
from collapsekit.report.reproduction_notes import Notes, join_notes
from collapsekit.report.reproduction_runs import DEFAULT_PROTOCOL, finished, select, steps_text
from collapsekit.report.reproductions import (
    ESTIMATE_COLUMNS,
    NO_RUNS,
    estimate_columns,
    missing_remark,
    run_remarks,
)
from collapsekit.report.verdicts import Estimate, interval_text, our_order

TABLE = "collapsekit default protocol"
PROTOCOL_TEXT = "default (collapsekit's own settings, not the papers')"
DATASETS = ("ring8", "grid25")
METRICS = (keys.MODES_CAPTURED, keys.HIGH_QUALITY_FRAC, keys.MODE_KL)
# (method label, model, options the runs must carry)
METHODS = (
    ("vanilla", "vanilla", ""),
    ("unrolled", "unrolled", ""),
    ("minibatch", "minibatch", ""),
    ("pacgan (pack=2)", "pacgan", "pack=2"),
)
COLUMNS = ["table", "dataset", "method", "metric", "ours", "ours_ci95", "trials", "steps"]
COLUMNS += ["protocol", "published_ordering", "holds", "note"]


@dataclass(frozen=True)
class Ordering:
    """A published ordering in modes captured: ``higher`` above ``lower`` (our method labels)."""

    source: str
    higher: str  # our method label
    lower: str
    published_higher: str  # the paper's method names
    published_lower: str


ORDERINGS = (
    Ordering(VEEGAN_TABLE_1, "unrolled", "vanilla", "Unrolled GAN", "GAN"),
    Ordering(PACGAN_TABLE_1, "pacgan (pack=2)", "vanilla", "PacGAN2", "GAN"),
)


def default_protocol_table(runs: pd.DataFrame, notes: Notes | None = None) -> pd.DataFrame:
    """The rows of ``default_protocol.csv``: by dataset, method, then metric."""
    rows = []
    for dataset in DATASETS:
        found = {label: _runs(runs, label, dataset) for label, _, _ in METHODS}
        for label, _, _ in METHODS:
            rows += [_row(dataset, label, metric, found) for metric in METRICS]
    frame = pd.DataFrame(rows, columns=COLUMNS + ESTIMATE_COLUMNS)
    frame["note"] = join_notes(frame, notes)
    return frame


def _runs(runs: pd.DataFrame, label: str, dataset: str) -> pd.DataFrame:
    _, model, options = next(method for method in METHODS if method[0] == label)
    return select(runs, DEFAULT_PROTOCOL, model, options, dataset)


def _row(dataset: str, label: str, metric: str, found: dict[str, pd.DataFrame]) -> dict:
    done = finished(found[label])
    ours = Estimate.of(done[metric]) if len(done) else None
    row = {
        "table": TABLE,
        "dataset": dataset,
        "method": label,
        "metric": metric,
        **estimate_columns(metric, ours),
        "trials": len(done),
        "steps": steps_text(done),
        "protocol": PROTOCOL_TEXT,
        "published_ordering": "",
        "holds": "",
    }
    remarks = [missing_remark(ours, len(done))] if ours else [NO_RUNS]
    remarks += run_remarks(found[label])
    ordering = next((o for o in ORDERINGS if o.higher == label), None)
    if ordering is not None and metric == keys.MODES_CAPTURED:
        row["published_ordering"] = ordering_text(ordering, dataset)
        holds, why = ordering_holds(ordering, found)
        row["holds"] = holds
        remarks.insert(0, why)
    row["note"] = "; ".join(filter(None, remarks))
    return row


def ordering_text(ordering: Ordering, dataset: str) -> str:
    """``unrolled > vanilla (VEEGAN Table 1: Unrolled GAN 7.6 > GAN 1)``."""
    values = {
        p.method: p.value
        for p in PUBLISHED
        if p.source == ordering.source and p.dataset == dataset and p.metric == keys.MODES_CAPTURED
    }
    table = PAPER_SETTINGS[ordering.source].name
    return (
        f"{ordering.higher} > {ordering.lower} ({table}: {ordering.published_higher} "
        f"{values[ordering.published_higher]:g} > {ordering.published_lower} "
        f"{values[ordering.published_lower]:g})"
    )


def ordering_holds(ordering: Ordering, found: dict[str, pd.DataFrame]) -> tuple[str, str]:
    """``("yes" | "no" | "no runs yet", the numbers)`` for one ordering in modes captured."""
    higher, lower = (finished(found[label]) for label in (ordering.higher, ordering.lower))
    if not len(higher) or not len(lower):
        return NO_RUNS, ""
    ours = Estimate.of(higher[keys.MODES_CAPTURED])
    theirs = Estimate.of(lower[keys.MODES_CAPTURED])
    order = our_order(ours, theirs)
    what = {1: "above", 0: "overlaps", -1: "below", None: "has no interval beside"}[order]
    text = (
        f"ours {interval_text(keys.MODES_CAPTURED, ours)} {what} "
        f"{ordering.lower}'s {interval_text(keys.MODES_CAPTURED, theirs)}"
    )
    return ("yes" if order == 1 else "no"), text
