"""Checks of the Monitor's arguments: each bad value raises one CollapsekitError naming it."""

from __future__ import annotations

import numpy as np

from collapsekit.errors import CollapsekitError


def check_positive_int(name: str, value: object) -> None:
    """Raise unless ``value`` is an integer >= 1 (bool excluded).

    Example:
        >>> check_positive_int("eval_every", 500)
    """
    if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < 1:
        raise CollapsekitError(f"{name} must be a positive integer, got {value!r}")


def check_callable(name: str, value: object, usage: str) -> None:
    """Raise unless ``value`` is None or callable; ``usage`` shows the call (``on_metrics(row)``).

    Example:
        >>> check_callable("on_metrics", print, "on_metrics(row)")
    """
    if value is not None and not callable(value):
        raise CollapsekitError(f"{name} must be callable as {usage}, got {type(value).__name__}")


def check_step(step: object, last_step: int | None) -> int:
    """The training step as an int; raise if it is not an integer or went backwards.

    Example:
        >>> check_step(5, last_step=4)
        5
    """
    if not isinstance(step, (int, np.integer)) or isinstance(step, bool):
        raise CollapsekitError(f"step must be an integer, got {step!r}")
    if last_step is not None and step < last_step:
        raise CollapsekitError(
            f"step went backwards ({step} after {last_step}); pass the training step, "
            "which must not decrease"
        )
    return int(step)
