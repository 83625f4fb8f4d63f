"""Shared CLI helpers: one-line errors with exit code 2, logging set-up, number formatting."""

from __future__ import annotations

import contextlib
import functools
import logging
import math
import signal
import threading
from collections.abc import Callable
from typing import TypeVar

import click

from collapsekit.errors import CollapsekitError

F = TypeVar("F", bound=Callable[..., object])


class CommandError(click.UsageError):
    """A problem the user can fix: printed as one line, exit code 2 (click's usage-error code)."""

    def show(self, file=None) -> None:  # one line, no usage block
        click.echo(f"Error: {self.format_message()}", err=True, file=file)


def clear_errors(command: F) -> F:
    """Turn library errors (CollapsekitError, OSError on user paths) into one-line exit-2 errors."""

    @functools.wraps(command)
    def wrapper(*args, **kwargs):
        try:
            return command(*args, **kwargs)
        except CollapsekitError as error:
            raise CommandError(str(error)) from None

    return wrapper  # type: ignore[return-value]


def setup_logging(verbose: bool) -> None:
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )


def format_value(value: object) -> str:
    """Human formatting for a metric value in tables."""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        if math.isnan(value):
            return "n/a"
        return f"{value:.4g}" if abs(value) < 1e5 else f"{value:.3e}"
    if isinstance(value, (list, tuple)):
        if len(value) > LONGEST_LIST_SHOWN and all(
            isinstance(v, (int, float)) and not isinstance(v, bool) for v in value
        ):  # e.g. the 1000 mode counts of stacked digits (all of them: --json, summary.json)
            low, middle, high = (format_value(v) for v in _min_median_max(value))
            return f"{len(value):,} values: min {low}, median {middle}, max {high}"
        return " ".join(format_value(v) for v in value)
    return str(value)


LONGEST_LIST_SHOWN = 25  # a grid25 histogram fits on a line; longer lists are summarised


def _min_median_max(values: list | tuple) -> tuple:
    ordered = sorted(values)
    middle = len(ordered) // 2
    median = (
        ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2
    )
    return ordered[0], median, ordered[-1]


def format_table(rows: list[tuple[str, object]]) -> str:
    """Two-column key/value table as text."""
    if not rows:
        return ""
    width = max(len(key) for key, _ in rows)
    return "\n".join(f"  {key:<{width}}  {format_value(value)}" for key, value in rows)


@contextlib.contextmanager
def sigterm_as_ctrl_c(before: Callable[[], None] | None = None):
    """Within the block, SIGTERM (``kill PID``, a job scheduler) stops work as Ctrl-C does.

    The handler raises KeyboardInterrupt, so a run is marked ``interrupted``, keeps
    its last checkpoint and prints how to continue, instead of dying mid-step.
    ``before`` runs first (the sweep passes the signal on to its workers). Only the
    first SIGTERM counts, so the interrupted work can finish writing.
    """
    if (
        threading.current_thread() is not threading.main_thread()  # handlers: main thread only
        or signal.getsignal(signal.SIGTERM) is signal.SIG_IGN  # the caller chose to ignore it
    ):
        yield
        return

    def stop(signum, frame):
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        if before is not None:
            before()
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, stop)
    try:
        yield
    finally:  # (None: a handler set outside Python, which cannot be put back; use the default)
        signal.signal(signal.SIGTERM, signal.SIG_DFL if previous is None else previous)
