"""How many torch threads a process of ours takes, so that processes side by side never fight.

Torch starts one thread per core in every process. Two such processes on the
same cores (several seeds in several terminals, a run beside a notebook) make
each other's threads wait at every parallel step: on the 2-core development
machine two default runs side by side took over 250 s each for what one alone
did in 17 s. The nets of the bundled benchmarks are small and gain nothing
from more threads (see ``bench/bench_concurrency.py`` and docs/running.md),
so the commands and sweep workers take ``AUTOMATIC_THREADS[kind]`` unless told
otherwise:

1. ``--threads N``;
2. else an explicit ``OMP_NUM_THREADS`` (or ``MKL_NUM_THREADS``, ``TORCH_NUM_THREADS``)
   in the environment: torch already follows it, so nothing is changed;
3. else the automatic choice.

Only the commands choose: the library (``Monitor``, ``evaluate``, the trainers)
never changes the thread count of the process it runs in, so a user's own
``torch.set_num_threads`` always stands.

Example:
    >>> choose_threads(None, "vector", environment={})
    1
    >>> choose_threads(None, "vector", environment={"OMP_NUM_THREADS": "4"}) is None
    True
"""

from __future__ import annotations

import os
from collections.abc import Mapping

THREAD_ENVIRONMENT = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "TORCH_NUM_THREADS")
# Threads per kind of work when nothing says otherwise (measured: docs/running.md).
AUTOMATIC_THREADS = {
    "vector": 1,  # 2-D MLPs: one thread is as fast alone, and 10-20x faster beside other work
    "image": 1,  # 8x8 DCGAN nets: the same under any other load (2 threads: 1-4 steps/s vs 20-40)
}


def choose_threads(
    requested: int | None, kind: str, environment: Mapping[str, str] | None = None
) -> int | None:
    """The torch thread count to set, or None to leave the process as it is.

    Example:
        >>> choose_threads(3, "image", environment={"OMP_NUM_THREADS": "1"})
        3
    """
    if requested is not None:
        return requested
    environment = os.environ if environment is None else environment
    if any(environment.get(name, "").strip() for name in THREAD_ENVIRONMENT):
        return None
    return AUTOMATIC_THREADS[kind]


def set_threads(threads: int) -> None:
    """Make this process's torch use ``threads`` threads (and one inter-op thread).

    Only for processes collapsekit runs (a command, a sweep worker): the library
    never calls it in a user's process.

    Example:
        >>> set_threads(1)  # doctest: +SKIP
    """
    import torch

    torch.set_num_threads(threads)
    try:
        torch.set_num_interop_threads(1)  # one op at a time
    except RuntimeError:  # only possible before the first parallel op
        pass
