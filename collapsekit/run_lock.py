"""The run lock: one process at a time trains a run folder (``flock`` on a file beside it).

Sweeps, ``collapsekit run`` and ``collapsekit run --resume`` hold it while they
train; the report asks for it before tidying a folder, so it never touches the
temporary files of a run that is being written.

Example:
    >>> with run_lock(Path("runs/vanilla-ring8-seed0")) as held:  # doctest: +SKIP
    ...     if not held:
    ...         print("another process is training it")
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path


def lock_path(run_dir: Path) -> Path:
    """The lock file of a run: beside its folder, so --force can remove the folder while held."""
    return run_dir.parent / f".{run_dir.name}.lock"


@contextlib.contextmanager
def run_lock(run_dir: Path):
    """Hold the run's lock while training it; yields False when another process holds it.

    Two sweeps over the same folder (a rerun while the first still trains, two Ray
    clusters on one shared folder) would otherwise train the same run at once and
    interleave their writes. The lock is ``flock`` on a file beside the folder: the
    OS drops it when its holder dies, even by SIGKILL, so no stale lock outlives a
    crash (only an empty lock file). The holder removes the file when done. Where
    ``fcntl`` is missing (Windows) runs are not locked.
    """
    try:
        import fcntl
    except ImportError:
        yield True
        return
    run_dir.parent.mkdir(parents=True, exist_ok=True)
    path = lock_path(run_dir)
    while True:
        handle = open(path, "a+b")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            yield False
            return
        try:  # the holder before us may have removed the file after we opened it: lock anew
            if os.stat(path).st_ino == os.fstat(handle.fileno()).st_ino:
                break
        except FileNotFoundError:
            pass
        handle.close()
    try:
        yield True
    finally:  # removed while still held, so nobody can take the old file for the lock
        path.unlink(missing_ok=True)
        handle.close()


def run_is_locked(run_dir: Path) -> bool:
    """Whether another process holds the run's lock now (writes nothing)."""
    try:
        import fcntl

        handle = open(lock_path(run_dir), "rb")
    except (ImportError, FileNotFoundError):
        return False
    with handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        fcntl.flock(handle, fcntl.LOCK_UN)
        return False
