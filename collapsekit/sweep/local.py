"""The local backend: a process pool forked from a server that imported torch once."""

from __future__ import annotations

import multiprocessing
import os
from collections import deque
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool

from collapsekit.sweep.plan import RunTask
from collapsekit.sweep.task import failed_outcome
from collapsekit.sweep.worker import init_worker, run_task_in_worker

# Imported once by the local backend's fork server, which every worker is forked from.
WORKER_PRELOAD = ("torch", "torch._dynamo", "collapsekit.sweep", "reference_models")


def run_local(tasks: list[RunTask], workers: int, report) -> None:
    """Forked worker processes, at most ``workers`` runs at once; a dead worker costs only its run.

    When a worker dies (killed, out of memory) the pool breaks and stops its other
    workers, whose runs end ``interrupted`` with their checkpoints: those go back
    to the queue and resume in a new pool; only the dead worker's run fails.
    """
    context = _pool_context()
    waiting = deque(tasks)
    while waiting:
        ended, names = context.SimpleQueue(), set()  # the runs a worker ended itself
        with ProcessPoolExecutor(
            max_workers=workers,
            mp_context=context,
            initializer=init_worker,
            initargs=(os.getpid(), ended),
        ) as pool:
            in_flight = _feed_pool(pool, waiting, workers, report, (ended, names))
        _drain(ended, names)  # every worker has ended: all they said is in the queue
        for task in reversed(in_flight):
            if task.name in names:
                waiting.appendleft(task)  # stopped by the pool, not dead: resume it
            else:
                report(failed_outcome(task, BrokenProcessPool("its worker process died"), task.action))
        ended.close()


def _drain(queue, names: set[str]) -> None:
    while not queue.empty():
        names.add(queue.get())


def _pool_context() -> multiprocessing.context.BaseContext:
    """Where to start workers: a fork server that has imported torch once, else fresh interpreters.

    Each worker of a ``spawn`` pool imports torch and its compiler front end
    (which ``torch.optim`` loads on first use) for itself: about 4 s per worker,
    paid again by every sweep. The fork server imports them once and forks each
    worker from that state, so a worker starts in milliseconds. It is as safe as
    ``spawn`` with CUDA and threads: the server never touches a GPU or starts a
    thread pool, and each worker begins from that clean state. Where the OS has no
    fork server (Windows), workers are spawned.
    """
    if "forkserver" not in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("spawn")
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(list(WORKER_PRELOAD))  # no effect once the server runs
    return context


def _feed_pool(
    pool: ProcessPoolExecutor, waiting: deque, workers: int, report, ended: tuple
) -> list[RunTask]:
    """Run tasks until none wait; if a worker dies, return the tasks in flight (else [])."""
    running = {}
    while waiting or running:
        while waiting and len(running) < workers:
            task = waiting.popleft()
            running[pool.submit(run_task_in_worker, task)] = task
        done, _ = wait(running, return_when=FIRST_COMPLETED)
        _drain(*ended)  # read as it fills, so a long sweep never blocks a worker on a full pipe
        broken = []
        for future in done:
            task = running.pop(future)
            try:
                report(future.result())
            except BrokenProcessPool:
                broken.append(task)
            except Exception as error:  # the outcome could not come back (e.g. unpicklable)
                report(failed_outcome(task, error, task.action))
        if broken:  # a worker died: the pool is gone, its other workers are being stopped
            return broken + list(running.values())
    return []
