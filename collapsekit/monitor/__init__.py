"""The Monitor: the one object a training loop needs (see ``collapsekit.monitor.monitor``).

Example:
    >>> from collapsekit.monitor import Monitor
    >>> Monitor(data="ring8").num_samples
    2500
"""

from __future__ import annotations

from collapsekit.monitor.monitor import Monitor
from collapsekit.monitor.summary import DIVERGED, FAILED, FINISHED, INTERRUPTED, Summary

__all__ = ["DIVERGED", "FAILED", "FINISHED", "INTERRUPTED", "Monitor", "Summary"]
