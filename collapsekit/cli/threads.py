"""The commands' ``--threads N`` option and their thread choice (``collapsekit/threads.py``).

Example:
    >>> use_threads(None, "vector")  # doctest: +SKIP
    1
"""

from __future__ import annotations

import logging

import click

from collapsekit.threads import choose_threads, set_threads

logger = logging.getLogger(__name__)


def use_threads(requested: int | None, kind: str) -> int:
    """Set this process's torch threads by ``choose_threads``; return the count in effect."""
    import torch

    threads = choose_threads(requested, kind)
    if threads is not None:
        set_threads(threads)
    logger.info("torch uses %d thread(s)", torch.get_num_threads())
    return torch.get_num_threads()


# The ``--threads N`` option of run, evaluate and report; the command receives ``threads``.
threads_option = click.option(
    "--threads",
    type=click.IntRange(min=1),
    default=None,
    help="Torch threads  [default: 1 for the bundled nets, or OMP_NUM_THREADS when set].",
)
