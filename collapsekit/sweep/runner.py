"""Running a plan: how many runs at once, with how many threads, on which backend."""

from __future__ import annotations

import dataclasses
import logging
import os
from collections.abc import Callable

from collapsekit.errors import CollapsekitError
from collapsekit.sweep.grid import SweepGrid
from collapsekit.sweep.local import run_local
from collapsekit.sweep.plan import FAILED, INVALID, SKIP, TRAIN, RunOutcome, RunTask, plan_sweep
from collapsekit.sweep.ray_backend import import_ray, run_ray
from collapsekit.sweep.task import outcome_from_folder
from collapsekit.threads import AUTOMATIC_THREADS

logger = logging.getLogger(__name__)

BACKENDS = ("local", "ray")


def usable_cores() -> int:
    """Cores this process may run on (its affinity mask where the OS has one)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def parallelism(
    backend: str, workers: int | None, threads: int | None, runs: int
) -> tuple[int, int]:
    """(runs at once, torch threads per run): by default one run per core, one thread each.

    Threads per run follow ``collapsekit.threads.AUTOMATIC_THREADS`` (one for the
    bundled nets: more only fight other processes), never over cores // workers.
    On Ray the default is as many runs at once as Ray has CPUs for.
    """
    automatic = max(AUTOMATIC_THREADS.values())  # the bundled nets gain nothing from more
    if backend == "ray":
        return workers or max(runs, 1), threads or automatic
    workers = workers or max(1, min(usable_cores(), runs))
    return workers, threads or max(1, min(automatic, usable_cores() // workers))


def run_tasks(
    tasks: list[RunTask],
    backend: str = "local",
    workers: int | None = None,
    threads_per_run: int | None = None,
    address: str | None = None,
    gpus_per_run: float = 0.0,
    on_outcome: Callable[[RunOutcome], None] | None = None,
) -> list[RunOutcome]:
    """Run a plan; ``on_outcome`` hears of each run as it ends. Outcomes come back in plan order."""
    check_backend(backend, workers, threads_per_run, address, gpus_per_run)
    outcomes: dict[str, RunOutcome] = {}

    def report(outcome: RunOutcome) -> None:
        outcomes[outcome.name] = outcome
        if outcome.status == FAILED:  # the caller reports it; the log keeps the traceback
            details = f"\n{outcome.traceback}" if outcome.traceback else ""
            logger.info("run %s failed: %s%s", outcome.name, outcome.error, details)
        if on_outcome is not None:
            on_outcome(outcome)

    for task in tasks:
        if task.action == SKIP:
            report(outcome_from_folder(task))
        elif task.action == INVALID:
            report(RunOutcome(task.name, task.run_dir, TRAIN, FAILED, error=task.error))
    pending = [task for task in tasks if task.action not in (SKIP, INVALID)]
    runs_at_once, threads = parallelism(backend, workers, threads_per_run, len(pending))
    pending = [dataclasses.replace(task, threads=threads) for task in pending]
    if pending and backend == "local":
        run_local(pending, runs_at_once, report)
    elif pending:
        run_ray(pending, runs_at_once, address, gpus_per_run, report)
    return [outcomes[task.name] for task in tasks if task.name in outcomes]


def run_sweep(
    grid: SweepGrid, out: str | os.PathLike, force: bool = False, **options
) -> list[RunOutcome]:
    """Plan the grid into ``out`` and run it; ``options`` are those of ``run_tasks``.

    Example:
        >>> grid = SweepGrid(["vanilla"], ["ring8"], [0, 1], settings={"steps": 2_000})
        >>> [o.status for o in run_sweep(grid, "runs", workers=2)]  # doctest: +SKIP
        ['finished', 'finished']
    """
    return run_tasks(plan_sweep(grid, out, force=force), **options)


def check_backend(
    backend: str, workers: int | None, threads: int | None, address: str | None, gpus_per_run: float
) -> None:
    """Raise CollapsekitError naming the bad setting (and, for Ray, how to install it)."""
    if backend not in BACKENDS:
        raise CollapsekitError(f"unknown backend {backend!r}; choose local or ray")
    for name, value in (("workers", workers), ("threads per run", threads)):
        if value is not None and (
            not isinstance(value, int) or isinstance(value, bool) or value < 1
        ):
            raise CollapsekitError(f"{name} must be a positive integer, got {value!r}")
    if backend == "local" and (address or gpus_per_run):
        flag = "--address" if address else "--gpus-per-run"
        raise CollapsekitError(f"{flag} is for the ray backend; add --backend ray")
    if not gpus_per_run >= 0:
        raise CollapsekitError(f"gpus per run must be 0 or more, got {gpus_per_run!r}")
    if backend == "ray":
        import_ray()
