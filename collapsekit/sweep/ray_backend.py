"""The Ray backend: the same runs as Ray tasks, on a local instance or a cluster."""

from __future__ import annotations

import logging
from collections import deque

from collapsekit.errors import CollapsekitError
from collapsekit.sweep.plan import RunTask
from collapsekit.sweep.task import failed_outcome, run_task

logger = logging.getLogger(__name__)

RAY_INSTALL_HINT = "pip install 'collapsekit[ray]'"


def import_ray():
    """The ``ray`` module, or a CollapsekitError saying how to install it."""
    try:
        import ray
    except ImportError:
        raise CollapsekitError(
            f"the ray backend needs Ray, which is not installed; install it with: {RAY_INSTALL_HINT}"
        ) from None
    return ray


def run_ray(tasks: list[RunTask], workers: int, address: str | None, gpus: float, report) -> None:
    """Ray tasks, at most ``workers`` at once; Ray places them by the CPUs (and GPUs) they ask for."""
    ray = import_ray()
    owns_instance = not ray.is_initialized()
    if owns_instance:  # address None: RAY_ADDRESS if set, else a new local instance
        ray.init(address=address, include_dashboard=False, logging_level=logging.WARNING)
    elif address:
        logger.warning("Ray is already initialised in this process; ignoring address %s", address)
    try:
        remote = ray.remote(run_task)
        waiting, running = deque(tasks), {}
        while waiting or running:
            while waiting and len(running) < workers:
                task = waiting.popleft()
                options = {"num_cpus": task.threads, "num_gpus": gpus, "max_retries": 1}
                running[remote.options(**options).remote(task)] = task
            done, _ = ray.wait(list(running), num_returns=1)
            for reference in done:
                task = running.pop(reference)
                try:
                    report(ray.get(reference))
                except ray.exceptions.RayError as error:  # the worker or its node died
                    report(failed_outcome(task, error, task.action))
    finally:
        if owns_instance:
            ray.shutdown()
