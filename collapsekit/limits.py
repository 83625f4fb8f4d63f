"""Ranges checked up front, before any work: seeds, counts, finite settings and memory.

Every entry point (the CLI, ``evaluate``, the reference trainers, sweeps) checks
its arguments here, so a bad value is one clear ``CollapsekitError`` naming it,
never an overflow deep inside torch or an allocation that fails after minutes.

Example:
    >>> check_seed(3)
    3
    >>> check_seed(2**64)
    Traceback (most recent call last):
    ...
    collapsekit.errors.CollapsekitError: seed must be an integer from 0 to 4294967295, got 18446744073709551616
"""

from __future__ import annotations

import math
import numbers
import os

from collapsekit.errors import CollapsekitError

# numpy's generators take seeds below 2**32 (torch takes more, and adds offsets to them).
MAX_SEED = 2**32 - 1
# Share of the memory available now that one request may plan to use: the rest is for
# the intermediate results, the other processes and the operating system.
MEMORY_SHARE = 0.5
FLOAT32_BYTES = 4


def is_integer(value: object) -> bool:
    """Whether ``value`` is an integer (numpy's integer scalars count; bool does not).

    Example:
        >>> is_integer(3), is_integer(3.0), is_integer(True)
        (True, False, False)
    """
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def check_seed(seed: object, name: str = "seed") -> int:
    """``seed`` as an int, or CollapsekitError unless it is an integer in 0..``MAX_SEED``.

    Example:
        >>> check_seed(0)
        0
    """
    if not is_integer(seed) or not 0 <= int(seed) <= MAX_SEED:
        raise CollapsekitError(f"{name} must be an integer from 0 to {MAX_SEED}, got {seed!r}")
    return int(seed)


def check_count(value: object, name: str) -> int:
    """``value`` as an int, or CollapsekitError unless it is a positive integer.

    Example:
        >>> check_count(2500, "num_samples")
        2500
    """
    if not is_integer(value) or int(value) < 1:
        raise CollapsekitError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


def check_positive_finite(value: object, name: str) -> float:
    """``value`` as a float, or CollapsekitError unless it is a finite number above 0.

    Example:
        >>> check_positive_finite(1e-3, "lr_generator")
        0.001
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise CollapsekitError(f"{name} must be a positive number, got {value!r}")
    if not math.isfinite(value) or value <= 0:
        raise CollapsekitError(f"{name} must be a finite number above 0, got {value!r}")
    return float(value)


def available_memory_bytes() -> int:
    """Memory this machine can give a new allocation now: MemAvailable on Linux, else all of it.

    Example:
        >>> available_memory_bytes() > 0
        True
    """
    try:
        with open("/proc/meminfo", encoding="ascii") as info:
            for line in info:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):  # no sysconf (Windows): do not refuse
        return 2**62


def check_fits_in_memory(needed_bytes: float, what: str, fix: str) -> None:
    """Refuse, before allocating, a request for more than ``MEMORY_SHARE`` of the memory available.

    Example:
        >>> check_fits_in_memory(10**15, "1e11 samples of 2 floats", "ask for fewer")
        Traceback (most recent call last):
        ...
        collapsekit.errors.CollapsekitError: 1e11 samples of 2 floats need about 1,000,000 GB, ...
    """
    available = available_memory_bytes()
    if needed_bytes > MEMORY_SHARE * available:
        raise CollapsekitError(
            f"{what} need about {_gigabytes(needed_bytes)}, more than this machine can spare "
            f"({_gigabytes(available)} available); {fix}"
        )


def check_samples_fit(count: int, values_per_sample: int, what: str, fix: str) -> None:
    """``check_fits_in_memory`` for ``count`` float32 samples of ``values_per_sample`` values.

    Example:
        >>> check_samples_fit(2500, 2, "2,500 samples", "ask for fewer")
    """
    needed = float(count) * float(values_per_sample) * FLOAT32_BYTES
    check_fits_in_memory(needed, f"{what} ({count:,} samples of {values_per_sample:,} values)", fix)


def _gigabytes(size: float) -> str:
    return f"{size / 1e9:,.0f} GB" if size >= 1e10 else f"{size / 1e9:.2g} GB"
