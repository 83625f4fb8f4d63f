"""Hand-written notes of the reproduction report, joined to the rows they name.

A notes file is a CSV with the header ``table,dataset,method,metric,note``; each
note is appended (after ``; ``) to the note of the row with the same four keys,
in any of the report's tables, so a measured reason for a ``not reproduced`` row
stays with it when the report is made again. A note matching no row is reported
with a warning, so a typo in a method name does not vanish silently.

Example:
    >>> notes = read_notes("reports/reproductions/notes.csv")  # doctest: +SKIP
    >>> table["note"] = join_notes(table, notes)  # doctest: +SKIP
"""

from __future__ import annotations

import csv
import logging
import os
from pathlib import Path

import pandas as pd

from collapsekit.errors import CollapsekitError

KEY_COLUMNS = ("table", "dataset", "method", "metric")  # a row's identity, for notes
NOTE_COLUMNS = (*KEY_COLUMNS, "note")
Notes = dict[tuple[str, str, str, str], list[str]]  # hand-written notes by row identity

logger = logging.getLogger(__name__)


def read_notes(path: str | os.PathLike) -> Notes:
    """Notes by (table, dataset, method, metric) from a CSV file.

    Raises CollapsekitError when the file cannot be read or lacks a column.

    Example:
        >>> notes = read_notes("reports/reproductions/notes.csv")  # doctest: +SKIP
        >>> notes[("PacGAN Table 1", "ring8", "GAN", "modes_captured")]  # doctest: +SKIP
        ['GAN ring runs lose modes after step 30,000 (history.csv)']
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
    identities = [tuple(str(row[c]) for c in KEY_COLUMNS) for _, row in frame.iterrows()]
    return [
        "; ".join(filter(None, [str(note or ""), *notes.get(identity, [])]))
        for identity, note in zip(identities, frame["note"], strict=True)
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
