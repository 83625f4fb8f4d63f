"""Ranges checked up front, before any work: seeds, counts and sample sizes.

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

import numbers

from collapsekit.errors import CollapsekitError
from collapsekit.memory import check_fits_in_memory

# numpy's generators take seeds below 2**32 (torch takes more, and adds offsets to them).
MAX_SEED = 2**32 - 1
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


def check_samples_fit(count: int, values_per_sample: int, what: str, fix: str) -> None:
    """``check_fits_in_memory`` for ``count`` float32 samples of ``values_per_sample`` values.

    Example:
        >>> check_samples_fit(2500, 2, "2,500 samples", "ask for fewer")
    """
    needed = float(count) * float(values_per_sample) * FLOAT32_BYTES
    check_fits_in_memory(needed, f"{what} ({count:,} samples of {values_per_sample:,} values)", fix)
