"""Refusing requests that cannot fit in memory, before allocating anything.

A request whose memory would exceed what the machine has fails with one line
naming the request, its size and the fix, instead of growing until the
operating system stops the process.

Example:
    >>> check_fits_in_memory(8 * 2500 * 2, "2,500 samples of 2 floats", "pass fewer samples")
    >>> format_bytes(3 * 1024**3)
    '3.0 GiB'
"""

from __future__ import annotations

import os

from collapsekit.errors import CollapsekitError


def machine_memory_bytes() -> int | None:
    """Physical memory of this machine in bytes, or None where the system does not say."""
    try:
        return int(os.sysconf("SC_PAGE_SIZE")) * int(os.sysconf("SC_PHYS_PAGES"))
    except (ValueError, OSError, AttributeError):
        return None


def format_bytes(size: float) -> str:
    """A byte count in words: ``'3.0 GiB'``."""
    for unit in ("B", "KiB", "MiB", "GiB", "TiB", "PiB"):
        if size < 1024 or unit == "PiB":
            return f"{size:.1f} {unit}" if unit != "B" else f"{int(size)} B"
        size /= 1024
    return f"{size:.1f} PiB"


def check_fits_in_memory(needed_bytes: float, what: str, fix: str) -> None:
    """Raise CollapsekitError when ``needed_bytes`` exceed the machine's physical memory.

    ``what`` names the request (``"num_samples=10**12 (2 floats each)"``), ``fix``
    says what to do instead.
    """
    available = machine_memory_bytes()
    if available is not None and needed_bytes > available:
        raise CollapsekitError(
            f"{what} needs about {format_bytes(needed_bytes)} of memory, more than this "
            f"machine's {format_bytes(available)}; {fix}"
        )
