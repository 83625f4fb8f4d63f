"""Sweeps: grids of runs over models x datasets x seeds, on a local process pool or on Ray.

Each run gets a folder named after its model, dataset and seed
(``runs/vanilla-ring8-seed0``), so running the same sweep again skips finished
runs and resumes half-finished ones from their last checkpoint. A run that fails
is reported with its error while the others go on.

The local backend runs one worker process per core with ``cores // workers``
torch threads each, so the workers together never ask for more threads than
the machine has. The Ray backend sends the same function to a Ray instance
(local, or a cluster given by its address); the run folders must then live on
a folder every node can write.

The package's rooms: ``grid`` (the grid and its file), ``plan`` (tasks and what
each folder asks for), ``task`` (one run in any process, under the run lock of
``collapsekit.run_lock``), ``runner`` (how many at once, which backend),
``local`` (the process pool), ``worker`` (a pool worker's signals and orphan
watch) and ``ray_backend``.

Example:
    >>> grid = SweepGrid(models=["vanilla"], data=["ring8", "grid25"], seeds=parse_seeds("0-4"),
    ...                  settings={"steps": 5_000, "eval_every": 500})
    >>> [task.name for task in plan_sweep(grid, "runs")][:2]  # doctest: +SKIP
    ['vanilla-ring8-seed0', 'vanilla-ring8-seed1']
    >>> outcomes = run_sweep(grid, "runs", workers=2)  # doctest: +SKIP
"""

from collapsekit.run_lock import lock_path, run_is_locked, run_lock
from collapsekit.sweep.grid import GRID_KEYS, SweepGrid, load_grid, parse_seeds, split_specs
from collapsekit.sweep.local import WORKER_PRELOAD
from collapsekit.sweep.plan import (
    COMPLETE,
    FAILED,
    INVALID,
    RESUME,
    SKIP,
    TRAIN,
    RunOutcome,
    RunTask,
    expand_grid,
    folder_action,
    plan_sweep,
    run_name,
)
from collapsekit.sweep.ray_backend import RAY_INSTALL_HINT, import_ray
from collapsekit.sweep.runner import (
    BACKENDS,
    check_backend,
    parallelism,
    run_sweep,
    run_tasks,
    usable_cores,
)
from collapsekit.sweep.task import failed_outcome, outcome_from_folder, run_task
from collapsekit.sweep.worker import (
    SWEEP_WATCH_GRACE_S,
    SWEEP_WATCH_INTERVAL_S,
    interrupt_workers,
    run_task_in_worker,
)

__all__ = [
    "BACKENDS",
    "COMPLETE",
    "FAILED",
    "GRID_KEYS",
    "INVALID",
    "RAY_INSTALL_HINT",
    "RESUME",
    "SKIP",
    "SWEEP_WATCH_GRACE_S",
    "SWEEP_WATCH_INTERVAL_S",
    "TRAIN",
    "WORKER_PRELOAD",
    "RunOutcome",
    "RunTask",
    "SweepGrid",
    "check_backend",
    "expand_grid",
    "failed_outcome",
    "folder_action",
    "import_ray",
    "interrupt_workers",
    "load_grid",
    "lock_path",
    "outcome_from_folder",
    "parallelism",
    "parse_seeds",
    "plan_sweep",
    "run_is_locked",
    "run_lock",
    "run_name",
    "run_sweep",
    "run_task",
    "run_task_in_worker",
    "run_tasks",
    "split_specs",
    "usable_cores",
]
