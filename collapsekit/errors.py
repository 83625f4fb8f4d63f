"""Errors collapsekit raises for bad input.

Every error names the problem and the fix. They subclass ``ValueError`` so that
library callers can catch the usual type, and the CLI turns them into one line
on stderr with exit code 2.
"""

from __future__ import annotations

import os
from pathlib import Path


class CollapsekitError(ValueError):
    """Bad input or state that the user can fix; the message says how."""


class RunFolderError(CollapsekitError):
    """A run folder is missing, not a run, or corrupt."""


class DiskFullError(CollapsekitError):
    """A write failed because the disk (or the user's quota) is full; ``path`` names the file."""

    def __init__(self, path: str | os.PathLike) -> None:
        self.path = Path(path)
        super().__init__(f"disk full while writing {path}; free space and try again")
