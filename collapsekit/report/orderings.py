"""The published orderings under the papers' own protocols: do our runs rank the methods as
the paper does?

A row's verdict in ``reproductions.csv`` judges one number; a reader comparing methods
asks another question: does PacGAN2 capture more modes than GAN, as in PacGAN Table 1,
with our 95% intervals separated? For every published table and dataset, each method
the paper ranks apart from the table's baseline (its first method: GAN, or DCGAN in
PacGAN Table 3) in modes captured gets one row per run length (runs of 50,000 and of
400,000 steps are compared among themselves): the published ordering, whether ours
holds it, and our numbers. It is read from the reproduction table itself, so it shows
exactly the runs and intervals of the rows beside it.

Example:
    >>> orderings = published_orderings(reproduction_table(runs))  # doctest: +SKIP
    >>> orderings.loc[0, ["table", "dataset", "steps", "holds"]].tolist()  # doctest: +SKIP
    ['PacGAN Table 1', 'ring8', '50000', 'no']
"""

from __future__ import annotations

import math

import pandas as pd

from collapsekit.metrics import keys
from collapsekit.report.display import Table, format_half_width, format_value
from collapsekit.report.verdicts import Estimate, interval_text, our_order, published_order

COLUMNS = ["table", "dataset", "steps", "published_ordering", "holds", "ours"]
BASELINES = ("GAN", "DCGAN")  # each table's baseline method, as the papers name it
HOLDS, DOES_NOT_HOLD, NO_RUNS = "yes", "no", "no runs yet"
NEEDS_INTERVALS = "not yet"  # runs, but fewer than 2 finished on one side


def published_orderings(
    reproduced: pd.DataFrame, metric: str = keys.MODES_CAPTURED
) -> pd.DataFrame:
    """One row per (table, dataset, method ranked apart from the baseline) in ``metric``.

    ``reproduced`` is the frame of ``reproduction_table`` (with its estimate columns).
    """
    rows = []
    chosen = reproduced[reproduced["metric"] == metric]
    by = ["table", "dataset", "length"]  # runs of one length against each other
    for (table, dataset, length), group in chosen.groupby(by, sort=False, dropna=False):
        is_baseline = group["method"].isin(BASELINES)
        if not is_baseline.any():
            continue
        baseline = group[is_baseline].iloc[0]
        steps = "" if pd.isna(length) else str(int(length))
        for _, other in group[~is_baseline].iterrows():
            expected = published_order(
                other["published"], _error(other), baseline["published"], _error(baseline)
            )
            if expected != 0:
                rows.append(_row((table, dataset, steps), metric, other, baseline, expected))
    return pd.DataFrame(rows, columns=COLUMNS)


def _row(
    where: tuple[str, str, str], metric: str, other: pd.Series, baseline: pd.Series, expected: int
) -> dict:
    """One ordering; ``where`` is the table, dataset and the runs' planned steps."""
    sign = ">" if expected > 0 else "<"
    ordering = f"{_published(metric, other)} {sign} {_published(metric, baseline)}"
    holds, ours = ordering_verdict(metric, other, baseline, expected)
    return dict(zip(COLUMNS, [*where, ordering, holds, ours], strict=True))


def ordering_verdict(
    metric: str, other: pd.Series, baseline: pd.Series, expected: int
) -> tuple[str, str]:
    """``(holds, our numbers)``: yes, no, not yet (one side has a single finished run, so no
    interval) or no runs yet (one side has none), for ``other`` ranked ``expected`` (+1:
    above, -1: below) against ``baseline``, two rows of the reproduction table.

    Example:
        >>> row = lambda method, n, mean: pd.Series(
        ...     {"method": method, "ours": mean, "ours_low": mean - 1, "ours_high": mean + 1, "ours_n": n})
        >>> ordering_verdict("modes_captured", row("PacGAN2", 5, 23.0), row("GAN", 5, 15.0), 1)
        ('yes', 'PacGAN2 23.0 [22.0, 24.0] (5 runs) above GAN 15.0 [14.0, 16.0] (5 runs)')
    """
    mine, theirs = _estimate(other), _estimate(baseline)
    if mine is None or theirs is None:
        missing = [row["method"] for row, e in ((other, mine), (baseline, theirs)) if e is None]
        return NO_RUNS, f"no finished runs of {' and '.join(missing)}"
    found = our_order(mine, theirs)
    what = {1: "above", 0: "overlaps", -1: "below", None: "has no interval beside"}[found]
    text = (
        f"{other['method']} {interval_text(metric, mine)} ({_runs(mine.n)}) {what} "
        f"{baseline['method']} {interval_text(metric, theirs)} ({_runs(theirs.n)})"
    )
    if found is None:
        return NEEDS_INTERVALS, text
    return (HOLDS if found == expected else DOES_NOT_HOLD), text


def _runs(count: int) -> str:
    return f"{count} run{'s' if count != 1 else ''}"


def _estimate(row: pd.Series) -> Estimate | None:
    n = row["ours_n"]
    if n is None or (isinstance(n, float) and math.isnan(n)) or int(n) == 0:
        return None
    return Estimate(row["ours"], row["ours_low"], row["ours_high"], int(n))


def _error(row: pd.Series) -> float | None:
    error = row["published_error"]
    return None if error is None or (isinstance(error, float) and math.isnan(error)) else error


def _published(metric: str, row: pd.Series) -> str:
    text = f"{row['method']} {format_value(metric, row['published'])}"
    error = _error(row)
    return text + (f" ± {format_half_width(metric, error)}" if error is not None else "")


def orderings_table(frame: pd.DataFrame) -> Table:
    """The orderings as text cells for the report's templates."""
    table = Table(["table", "dataset", "steps", "published ordering", "holds", "ours"],
                  numeric=[False, False, True, False, False, False],
                  prose=("published ordering", "ours"))  # fmt: skip
    table.rows = [[str(row[column]) for column in COLUMNS] for _, row in frame.iterrows()]
    return table


def orderings_text(frame: pd.DataFrame) -> str:
    """``2 of 9 hold, 3 do not, 4 wait for runs`` for the report's first lines.

    Example:
        >>> orderings_text(pd.DataFrame({"holds": [HOLDS, DOES_NOT_HOLD, NO_RUNS]}))
        '1 of 3 hold, 1 do not, 1 wait for runs'
    """
    counts = frame["holds"].value_counts()
    parts = [
        f"{counts.get(HOLDS, 0)} of {len(frame)} hold",
        f"{counts.get(DOES_NOT_HOLD, 0)} do not",
    ]
    waiting = counts.get(NO_RUNS, 0) + counts.get(NEEDS_INTERVALS, 0)
    return ", ".join(parts + ([f"{waiting} wait for runs"] if waiting else []))
