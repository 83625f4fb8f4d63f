"""Errors collapsekit raises for bad input.

Every error names the problem and the fix. They subclass ``ValueError`` so that
library callers can catch the usual type, and the CLI turns them into one line
on stderr with exit code 2.
"""

from __future__ import annotations


class CollapsekitError(ValueError):
    """Bad input or state that the user can fix; the message says how."""


class RunFolderError(CollapsekitError):
    """A run folder is missing, not a run, or corrupt."""
