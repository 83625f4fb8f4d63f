"""Hand-written notes of the reproduction report, joined to the rows they name.

A notes file is a CSV with the header ``table,dataset,method,metric,note``; each
note is appended (after ``; ``) to the note of the row with the same four keys,
in any of the report's tables, so a measured reason for a ``not reproduced`` row
stays with it when the report is made again. An optional ``steps`` column ties a
note to the rows of runs of that length (``50000``), for a table whose runs have
several; empty, the note goes with every length. A note matching no row is reported
with a warning, so a typo in a method name does not vanish silently.

Example:
    >>> notes = read_notes("reports/reproductions/notes.csv")  # doctest: +SKIP
    >>> table["note"] = join_notes(table, notes)  # doctest: +SKIP
"""

from __future__ import annotations

import csv
import logging
import math
import os
from pathlib import Path

import pandas as pd

from collapsekit.errors import CollapsekitError

KEY_COLUMNS = ("table", "dataset", "method", "metric")  # a row's identity, for notes
NOTE_COLUMNS = (*KEY_COLUMNS, "note")
STEPS = "steps"  # optional column: the run length a note is about ("" for every length)
# hand-written notes by row identity and run length ("" for any)
Notes = dict[tuple[str, str, str, str, str], list[str]]

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
    for line, row in enumerate(rows, start=2):
        note = (row.get("note") or "").strip()
        if note:
            key = tuple((row.get(c) or "").strip() for c in KEY_COLUMNS)
            notes.setdefault((*key, _steps(row, path, line)), []).append(note)
    return notes


def _steps(row: dict, path: Path, line: int) -> str:
    """The note's ``steps`` cell as a whole number of steps, or "" (any length)."""
    text = (row.get(STEPS) or "").strip().replace(",", "").replace("_", "")
    if text and not text.isdigit():
        raise CollapsekitError(
            f"notes file {path}, line {line}: steps {row.get(STEPS)!r} is not a whole number of "
            "steps; write the run length (50000) or leave the cell empty for every length"
        )
    return str(int(text)) if text else ""


def row_keys(frame: pd.DataFrame) -> list[tuple[tuple[str, ...], str]]:
    """Each row's identity (its four key columns) and run length ("" when unknown)."""
    lengths = frame["length"] if "length" in frame else [math.nan] * len(frame)
    return [
        (tuple(str(row[c]) for c in KEY_COLUMNS), "" if pd.isna(length) else str(int(length)))
        for (_, row), length in zip(frame.iterrows(), lengths, strict=True)
    ]


def _applies(key: tuple[str, ...], identity: tuple[str, ...], length: str) -> bool:
    """Whether the note ``key`` (four keys and steps) belongs to a row: same identity, and
    about the row's length or about every length."""
    return key[:4] == identity and key[4] in ("", length)


def _matching(notes: Notes, identity: tuple[str, ...], length: str) -> list[str]:
    """The notes for a row, in the file's order."""
    return [text for key, texts in notes.items() if _applies(key, identity, length) for text in texts]


def join_notes(frame: pd.DataFrame, notes: Notes | None) -> list[str]:
    """Each row's note with the hand-written notes for its keys appended (``; ``-separated)."""
    if not notes:
        return list(frame["note"])
    return [
        "; ".join(filter(None, [str(note or ""), *_matching(notes, identity, length)]))
        for (identity, length), note in zip(row_keys(frame), frame["note"], strict=True)
    ]


def unmatched_notes(notes: Notes | None, frames: list[pd.DataFrame]) -> list[tuple[str, ...]]:
    """Keys of notes (with their steps, "" for any) that match no row of ``frames`` (logged)."""
    present = [key for frame in frames for key in row_keys(frame)]
    unmatched = [
        key
        for key in (notes or {})
        if not any(_applies(key, identity, length) for identity, length in present)
    ]
    for key in unmatched:
        where = ", ".join(filter(None, key))
        logger.warning("note for %s matches no row of the reproduction tables", where)
    return unmatched
