"""Atomic file writes: a reader sees the old file or the new one, never half of one."""

from __future__ import annotations

import contextlib
import errno
import json
import math
import os
import tempfile
from pathlib import Path

from collapsekit.errors import DiskFullError

DISK_FULL = (errno.ENOSPC, errno.EDQUOT)  # no space left, or the user's quota reached


def _umask_by_setting() -> int:
    mask = os.umask(0o022)  # the portable way to read it is to set it
    os.umask(mask)
    return mask


# Read once this way: setting the umask is process-wide, so never while other threads write.
_UMASK_AT_IMPORT = _umask_by_setting()


def _current_umask() -> int:
    """The process's umask now: from /proc on Linux (read-only), else as it was at import."""
    try:
        with open("/proc/self/status", "rb") as status:
            for line in status:
                if line.startswith(b"Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    return _UMASK_AT_IMPORT


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> None:
    """Write ``data`` to a temporary file beside ``path``, fsync it, then rename over ``path``.

    The file gets the permissions a plain ``open(path, "w")`` would give it: those
    of the file it replaces, else 0o666 less the umask (``mkstemp`` alone would make
    it 0o600, readable by its owner only, which is wrong for a report or a run folder
    others read).
    """
    path = Path(path)
    try:
        mode = path.stat().st_mode & 0o777
    except FileNotFoundError:
        mode = 0o666 & ~_current_umask()
    with disk_full_named(path):
        handle, temporary = tempfile.mkstemp(
            dir=path.parent, prefix=f".{path.name}.", suffix=".tmp"
        )
        try:
            with os.fdopen(handle, "wb") as stream:
                stream.write(data)
                stream.flush()
                os.fsync(stream.fileno())
            os.chmod(temporary, mode)
            os.replace(temporary, path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise


@contextlib.contextmanager
def disk_full_named(path: str | os.PathLike):
    """Within the block, a full disk (ENOSPC, EDQUOT) becomes ``DiskFullError`` naming ``path``.

    Example:
        >>> with disk_full_named("runs/demo/history.csv"):  # doctest: +SKIP
        ...     stream.write(text)
    """
    try:
        yield
    except OSError as error:
        if error.errno in DISK_FULL:
            raise DiskFullError(path) from None
        raise


def atomic_write_text(path: str | os.PathLike, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


def json_safe(value: object) -> object:
    """Replace NaN and inf (not valid JSON) by None, recursively; tensors and numpy scalars become numbers."""
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    if hasattr(value, "item") and callable(value.item) and getattr(value, "ndim", 1) == 0:
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def atomic_write_json(path: str | os.PathLike, value: object) -> None:
    atomic_write_text(path, json.dumps(json_safe(value), indent=2, sort_keys=True, allow_nan=False) + "\n")
