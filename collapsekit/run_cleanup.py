"""Tidying a run folder: temporary files a killed writer left, and a restart from nothing.

Every whole-file write goes through a temporary file beside its target
(``.samples.npz.<random>.tmp``, see ``collapsekit/atomic.py``); ``kill -9`` between
writing and renaming it leaves that file behind. Nothing reads these files (no
reader matches their names); resume removes them, and the report removes those
of runs nobody is writing.

Example:
    >>> removed = remove_stale_temporary_files("runs/vanilla-ring8-seed0")  # doctest: +SKIP
"""

from __future__ import annotations

import logging
import os
import time
from pathlib import Path

from collapsekit.run_lock import run_is_locked
from collapsekit.runs import CHECKPOINT, CONFIG, D_MAP, EQUILIBRIUM, HISTORY, SAMPLES, SUMMARY

logger = logging.getLogger(__name__)

TEMPORARY_PATTERN = ".*.tmp"  # atomic.py's temporary files: ".<target name>.<random>.tmp"
SUBFOLDERS = ("samples",)  # where a run writes besides its folder (image grids)
# A temporary file is a live write for a second at most; older than this, its writer is gone.
STALE_AFTER_S = 600.0
# config.json last: a folder cleared half-way still asks for a restart
RUN_FILES = (SUMMARY, HISTORY, EQUILIBRIUM, SAMPLES, CHECKPOINT, D_MAP, CONFIG)


def temporary_files(run_dir: str | os.PathLike) -> list[Path]:
    """The temporary files of atomic writes in a run folder and its subfolders.

    Example:
        >>> temporary_files("runs/vanilla-ring8-seed0")  # doctest: +SKIP
        [PosixPath('runs/vanilla-ring8-seed0/.samples.npz.k2j3h4.tmp')]
    """
    run_dir = Path(run_dir)
    folders = [run_dir, *(run_dir / name for name in SUBFOLDERS)]
    return sorted(path for folder in folders for path in folder.glob(TEMPORARY_PATTERN))


def remove_stale_temporary_files(
    run_dir: str | os.PathLike, older_than_s: float = STALE_AFTER_S
) -> list[Path]:
    """Remove the temporary files no live writer can still rename; return those removed.

    A folder whose run lock is held is being written: nothing is removed. Else
    files older than ``older_than_s`` go (0: all, for a caller that holds the lock).
    """
    run_dir = Path(run_dir)
    if older_than_s > 0 and run_is_locked(run_dir):
        return []
    now = time.time()
    removed = []
    for path in temporary_files(run_dir):
        try:
            if now - path.stat().st_mtime >= older_than_s:
                path.unlink()
                removed.append(path)
        except FileNotFoundError:  # renamed or removed meanwhile
            continue
    if removed:
        logger.info("removed %d stale temporary file(s) from %s", len(removed), run_dir)
    return removed


def clear_run_files(run_dir: str | os.PathLike) -> None:
    """Remove a run's own files (and temporaries), so the folder can hold a new start.

    For a run that stopped before its first checkpoint: nothing in it can be
    resumed. Files that are not the run's (a user's notes) stay.

    Example:
        >>> clear_run_files("runs/vanilla-ring8-seed0")  # doctest: +SKIP
    """
    run_dir = Path(run_dir)
    for path in temporary_files(run_dir):
        path.unlink(missing_ok=True)
    for name in RUN_FILES:
        (run_dir / name).unlink(missing_ok=True)
    for folder in SUBFOLDERS:
        for path in (run_dir / folder).glob("step_*.png"):
            path.unlink(missing_ok=True)
