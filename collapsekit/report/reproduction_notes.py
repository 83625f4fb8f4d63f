"""Hand-written notes for the reproduction tables: measured reasons a person adds to a row.

A notes file is a CSV with the columns ``table,dataset,method,metric,note``; each
note is appended to the note of the row with the same four keys (several notes
for one row are joined in file order). A note that matches no row is reported
with a warning, so a typo in a method name does not vanish silently.

Example:
    >>> notes = read_notes("reports/reproductions/notes.csv")  # doctest: +SKIP
    >>> notes[("PacGAN Table 1", "ring8", "GAN", "modes_captured")]  # doctest: +SKIP
    ['GAN ring runs collapse to 1 mode after step 30,000 (history.csv)']
"""

from __future__ import annotations

import csv
import logging
import os
from pathlib import Path

import pandas as pd

from collapsekit.errors import CollapsekitError

logger = logging.getLogger(__name__)

KEY_COLUMNS = ("table", "dataset", "method", "metric")
NOTE_COLUMNS = (*KEY_COLUMNS, "note")

Notes = dict[tuple[str, str, str, str], list[str]]


def read_notes(path: str | os.PathLike) -> Notes:
    """Notes by (table, dataset, method, metric) from a CSV file.

    Raises CollapsekitError when the file cannot be read or lacks a column.
    """
    path = Path(path)
    fix = f"pass a CSV file with the header {','.join(NOTE_COLUMNS)}"
    try:
        with open(path, encoding="utf-8", newline="") as stream:
            reader = csv.DictReader(stream)
            missing = [c for c in NOTE_COLUMNS if c not in (reader.fieldnames or [])]
            if missing:
                raise CollapsekitError(
                    f"notes file {path} lacks the column(s) {', '.join(missing)}; {fix}"
                )
            rows = list(reader)
    except (OSError, UnicodeDecodeError, csv.Error) as error:
        reason = getattr(error, "strerror", None) or error
        raise CollapsekitError(f"cannot read notes file {path} ({reason}); {fix}") from None
    notes: Notes = {}
    for row in rows:
        note = (row.get("note") or "").strip()
        if note:
            key = tuple((row.get(c) or "").strip() for c in KEY_COLUMNS)
            notes.setdefault(key, []).append(note)
    return notes


def join_notes(frame: pd.DataFrame, notes: Notes | None) -> list[str]:
    """Each row's note with the hand-written notes for its keys appended (``; ``-separated)."""
    if not notes:
        return list(frame["note"])
    keys = [tuple(str(row[c]) for c in KEY_COLUMNS) for _, row in frame.iterrows()]
    return [
        "; ".join(filter(None, [str(note or ""), *notes.get(key, [])]))
        for key, note in zip(keys, frame["note"], strict=True)
    ]


def unmatched_notes(notes: Notes | None, frames: list[pd.DataFrame]) -> list[tuple[str, ...]]:
    """Keys of notes that match no row of ``frames`` (logged as warnings)."""
    present = {
        tuple(str(row[c]) for c in KEY_COLUMNS) for frame in frames for _, row in frame.iterrows()
    }
    unmatched = [key for key in (notes or {}) if key not in present]
    for key in unmatched:
        logger.warning("note for %s matches no row of the reproduction tables", ", ".join(key))
    return unmatched
