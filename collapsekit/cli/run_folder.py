"""Where ``collapsekit run`` trains: a folder of its own, held while it trains, and what to say.

Two runs started in the same second with the same model, data and seed get the
same default name; the folder is created atomically (``mkdir`` fails for the
second), so the second takes ``<name>-2`` instead of failing. While a run
trains or resumes it holds the run lock (``collapsekit/run_lock.py``), as sweep
workers do: a second ``run --resume`` of the same folder refuses in one line.

Example:
    >>> folder = claim_run_folder(Path("runs"), "vanilla-ring8-seed0-20260101-120000")  # doctest: +SKIP
    >>> with holding_run(folder):  # doctest: +SKIP
    ...     train(config, folder)
"""

from __future__ import annotations

import contextlib
from pathlib import Path

from collapsekit.errors import CollapsekitError, DiskFullError
from collapsekit.run_lock import lock_path, run_lock
from collapsekit.runs import CHECKPOINT, ensure_writable_folder

MAX_SUFFIX = 1000  # <name>-2 ... <name>-1000: more runs in one second is a loop gone wrong


def claim_run_folder(out: Path, name: str, numbered: bool = True) -> Path:
    """Create ``out/name`` atomically; if it exists and ``numbered``, the first free ``name-N``.

    With ``numbered=False`` (a name the user chose) an existing folder is
    returned as it is: starting a run there says what it already holds.
    """
    ensure_writable_folder(out)
    for index in range(1, MAX_SUFFIX + 1):
        path = out / (name if index == 1 else f"{name}-{index}")
        try:
            path.mkdir()
            return path
        except FileExistsError:
            if not numbered:
                return path
        except OSError as error:
            raise CollapsekitError(
                f"cannot create {path} ({error.strerror}); free space or choose another --out"
            ) from None
    raise CollapsekitError(
        f"{out} already holds {MAX_SUFFIX} runs named {name}; choose another --name or --out"
    )


@contextlib.contextmanager
def holding_run(run_dir: Path, action: str = "resume it"):
    """Hold the run's lock for the block, or refuse in one line when another process trains it."""
    with run_lock(run_dir) as held:
        if not held:
            raise CollapsekitError(
                f"another process is training {run_dir} (it holds {lock_path(run_dir)}); "
                f"let it finish or stop it, then {action}"
            )
        yield


def resume_line(run_dir: Path) -> str:
    """What ``run --resume`` is about to do with ``run_dir``."""
    if (run_dir / CHECKPOINT).is_file():
        return f"Resuming {run_dir}"
    return f"{run_dir} stopped before its first checkpoint; starting it again from step 0"


def disk_full_line(error: DiskFullError, run_dir: Path) -> str:
    """The one line for a full disk during a run: which file, and how to go on."""
    how = (
        f"resume with: collapsekit run --resume {run_dir}"
        if (run_dir / CHECKPOINT).is_file()
        else f"start again with: collapsekit run --resume {run_dir}"
    )
    return f"disk full while writing {error.path}; free space and {how}"


def interrupted_line(run_dir: Path) -> str:
    """What Ctrl-C (or SIGTERM) leaves, and the command that goes on."""
    if (run_dir / CHECKPOINT).is_file():
        return (
            f"Interrupted; what was measured is in {run_dir}. "
            f"Continue with: collapsekit run --resume {run_dir}"
        )
    return (
        f"Interrupted before the first checkpoint; `collapsekit run --resume {run_dir}` "
        "starts it again from step 0."
    )
