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

Example:
    >>> grid = SweepGrid(models=["vanilla"], data=["ring8", "grid25"], seeds=parse_seeds("0-4"),
    ...                  settings={"steps": 5_000, "eval_every": 500})
    >>> [task.name for task in plan_sweep(grid, "runs")][:2]  # doctest: +SKIP
    ['vanilla-ring8-seed0', 'vanilla-ring8-seed1']
    >>> outcomes = run_sweep(grid, "runs", workers=2)  # doctest: +SKIP
"""

from __future__ import annotations

import _thread
import contextlib
import dataclasses
import logging
import multiprocessing
import os
import re
import shutil
import signal
import threading
import time
import traceback
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path

from collapsekit.atomic import json_safe
from collapsekit.data import get_dataset
from collapsekit.errors import CollapsekitError
from collapsekit.runs import CHECKPOINT, CONFIG, RunDir, ensure_writable_folder

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

logger = logging.getLogger(__name__)

TRAIN, RESUME, SKIP = "train", "resume", "skip"  # what a run's folder asks for
INVALID = "invalid"  # a run whose settings are wrong: reported at once, never sent to a worker
COMPLETE = ("finished", "diverged")  # summaries that end a run; anything else is resumed
FAILED = "failed"
BACKENDS = ("local", "ray")
GRID_KEYS = ("models", "data", "seeds", "options")  # a grid file's other keys are trainer settings
RAY_INSTALL_HINT = "pip install 'collapsekit[ray]'"
# How often a pool worker checks that its sweep is still alive, and how long an orphaned
# worker waits for its interrupted run to write its summary before it ends (seconds).
SWEEP_WATCH_INTERVAL_S = 1.0
SWEEP_WATCH_GRACE_S = 60.0
# Imported once by the local backend's fork server, which every worker is forked from.
WORKER_PRELOAD = ("torch", "torch._dynamo", "collapsekit.sweep", "reference_models")


# -- the grid ---------------------------------------------------------------------------------
@dataclass
class SweepGrid:
    """Models x datasets x seeds, with the trainer settings every run shares.

    ``options`` go to every model that takes them (``unroll_steps`` reaches only
    the unrolled GAN); ``model_options`` go to one model each.

    Example:
        >>> grid = SweepGrid(["vanilla", "unrolled"], ["ring8"], [0, 1], options={"unroll_steps": 5})
        >>> len(grid)
        4
    """

    models: list[str]
    data: list[str]  # dataset specs, e.g. "ring8:std=0.01"
    seeds: list[int]
    settings: dict = field(default_factory=dict)  # TrainConfig fields: steps, eval_every, ...
    options: dict = field(default_factory=dict)
    model_options: dict[str, dict] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.models) * len(self.data) * len(self.seeds)


def parse_seeds(value: str | int | Sequence[int]) -> list[int]:
    """Seeds from ``"0-4"``, ``"0,2,5"``, ``"0-2,7"``, an integer or a list of integers.

    Example:
        >>> parse_seeds("0-2,7")
        [0, 1, 2, 7]
    """
    if isinstance(value, str):
        seeds = [
            seed for item in value.split(",") if item.strip() for seed in _seed_range(item.strip())
        ]
    elif isinstance(value, int) and not isinstance(value, bool):
        seeds = [value]
    elif isinstance(value, Sequence):
        seeds = list(value)
    else:
        raise CollapsekitError(f"seeds must look like 0-4 or 0,2,5, got {value!r}")
    for seed in seeds:
        if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
            raise CollapsekitError(
                f"seeds must be non-negative integers, got {seed!r}; write e.g. 0-4"
            )
    if not seeds:
        raise CollapsekitError("no seeds given; write e.g. --seeds 0-4 or --seeds 0,2,5")
    return list(dict.fromkeys(seeds))


def _seed_range(item: str) -> list[int]:
    match = re.fullmatch(r"(\d+)(?:\s*-\s*(\d+))?", item)
    if match is None:
        raise CollapsekitError(f"seed {item!r} is not a number or a range; write e.g. 0-4 or 0,2,5")
    first = int(match.group(1))
    last = int(match.group(2)) if match.group(2) is not None else first
    if last < first:
        raise CollapsekitError(
            f"seed range {item!r} goes down; write it low to high, e.g. {last}-{first}"
        )
    return list(range(first, last + 1))


def split_specs(text: str) -> list[str]:
    """Split a comma list of names or dataset specs; ``key=value`` items belong to the spec before.

    Example:
        >>> split_specs("ring8:radius=1,std=0.01,grid25")
        ['ring8:radius=1,std=0.01', 'grid25']
    """
    specs: list[str] = []
    for item in (part.strip() for part in text.split(",")):
        if not item:
            continue
        if "=" in item and ":" not in item and specs:
            specs[-1] += f",{item}"
        else:
            specs.append(item)
    return specs


def load_grid(path: str | os.PathLike) -> SweepGrid:
    """Read a grid from a TOML file (see docs/sweep.md for the format).

    Example:
        >>> grid = load_grid("sweep.toml")  # doctest: +SKIP
    """
    path = Path(path)
    try:
        values = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise CollapsekitError(
            f"cannot read grid file {path} ({error.strerror}); check the path"
        ) from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise CollapsekitError(
            f"grid file {path} is not valid TOML ({error}); see docs/sweep.md"
        ) from None
    missing = [key for key in ("models", "data", "seeds") if key not in values]
    if missing:
        raise CollapsekitError(
            f"grid file {path} lacks {', '.join(missing)}; see docs/sweep.md for an example"
        )
    options = values.get("options", {})
    if not isinstance(options, dict):
        raise CollapsekitError(
            f"grid file {path}: options must be a table, e.g. [options] unroll_steps = 5"
        )
    return SweepGrid(
        models=_names(values["models"], "models"),
        data=_names(values["data"], "data"),
        seeds=parse_seeds(values["seeds"]),
        settings={k: v for k, v in values.items() if k not in GRID_KEYS},
        options={k: v for k, v in options.items() if not isinstance(v, dict)},
        model_options={k: v for k, v in options.items() if isinstance(v, dict)},
    )


def _names(value: object, key: str) -> list[str]:
    if isinstance(value, str):
        return split_specs(value)
    if isinstance(value, list) and value and all(isinstance(v, str) for v in value):
        return [v.strip() for v in value]
    raise CollapsekitError(f'{key} must be a list of names, e.g. {key} = ["a", "b"], got {value!r}')


# -- planning ---------------------------------------------------------------------------------
@dataclass
class RunTask:
    """One grid point: where its folder is, what to train there and what the folder asks for."""

    name: str
    run_dir: str
    config: dict  # TrainConfig fields
    action: str  # TRAIN, RESUME or SKIP, as planned from the folder; INVALID: cannot start
    force: bool = False  # start again even if the folder holds a run
    threads: int = 1  # torch threads for this run
    error: str | None = None  # why an INVALID run cannot start


@dataclass
class RunOutcome:
    """What became of one run in a sweep."""

    name: str
    run_dir: str
    action: str  # TRAIN, RESUME or SKIP: what this sweep did
    status: str  # finished, diverged, interrupted or failed
    step: int | None = None
    metrics: dict = field(default_factory=dict)
    error: str | None = None  # "Type: message" when the run failed
    traceback: str | None = None  # for errors that are not a user's bad input
    elapsed_s: float = 0.0  # time spent on it in this sweep


def run_name(model: str, data: str, seed: int) -> str:
    """The run's folder name: the same for the same model, dataset spec and seed.

    Example:
        >>> run_name("vanilla", "ring8:radius=1,std=0.01", 3)
        'vanilla-ring8_radius=1_std=0.01-seed3'
    """
    slug = re.sub(r"[^A-Za-z0-9_.=-]+", "_", data.strip())
    return f"{model}-{slug}-seed{seed}"


def plan_sweep(grid: SweepGrid, out: str | os.PathLike, force: bool = False) -> list[RunTask]:
    """One task per grid point, in grid order, with what its folder asks for.

    Raises CollapsekitError if a folder holds a run with other settings (rerun
    it with ``force=True`` or choose another ``out``).
    """
    out = Path(out)
    ensure_writable_folder(out)
    tasks, checked = [], {}
    for config in expand_grid(grid):
        name = run_name(config["model"], config["data"], config["seed"])
        error = _config_error(config, checked)
        action = INVALID if error else TRAIN if force else folder_action(out / name)
        tasks.append(RunTask(name, str(out / name), config, action, force=force, error=error))
    _check_unique(tasks)
    if not force:
        _check_settings_match(tasks)
    return tasks


def expand_grid(grid: SweepGrid) -> list[dict]:
    """TrainConfig fields for every (model, dataset, seed), with each model's options."""
    from reference_models import TrainConfig  # lazily: collapsekit never needs it otherwise

    reserved = {"model", "data", "seed", "options"}
    valid = [f.name for f in dataclasses.fields(TrainConfig) if f.name not in reserved]
    unknown = sorted(set(grid.settings) - set(valid))
    if unknown:
        raise CollapsekitError(
            f"unknown trainer setting(s) {', '.join(unknown)}; valid: {', '.join(valid)}"
        )
    options = {model: _model_options(grid, model) for model in grid.models}
    return [
        {**grid.settings, "model": model, "data": data, "seed": seed, "options": options[model]}
        for model in dict.fromkeys(grid.models)
        for data in dict.fromkeys(grid.data)
        for seed in dict.fromkeys(grid.seeds)
    ]


def _model_options(grid: SweepGrid, model: str) -> dict:
    stray = sorted(set(grid.model_options) - set(grid.models))
    if stray:
        raise CollapsekitError(
            f"options given for {', '.join(stray)}, which the sweep does not run"
        )
    accepted = {name: set(_option_names(name)) for name in grid.models}
    for key in grid.options:
        if not any(key in names for names in accepted.values()):
            takers = (
                ", ".join(f"{m}: {', '.join(sorted(n))}" for m, n in accepted.items() if n)
                or "none"
            )
            raise CollapsekitError(
                f"no model in this sweep takes option {key!r}; options by model: {takers}"
            )
    shared = {k: v for k, v in grid.options.items() if k in accepted[model]}
    return {**shared, **grid.model_options.get(model, {})}


def _option_names(model: str) -> dict:
    import reference_models

    if model not in reference_models.list_models():
        return {}  # an unknown model fails in its own run, with the valid names
    return reference_models.get_model(model).option_defaults


def _config_error(config: dict, checked: dict) -> str | None:
    """Why this run cannot start (unknown model, bad dataset parameter, ...), found without training."""
    import reference_models

    model, options = config["model"], config["options"]
    checks = (
        (("data", config["data"]), lambda: get_dataset(config["data"])),
        (
            ("model", model, repr(options)),
            lambda: reference_models.get_model(model).resolve_options(options),
        ),
        (("settings", repr(config)), lambda: reference_models.TrainConfig(**config).validate()),
    )
    for key, check in checks:
        if key not in checked:  # each dataset and model is built once per sweep, not once per seed
            try:
                check()
                checked[key] = None
            except CollapsekitError as error:
                checked[key] = f"{type(error).__name__}: {error}"
        if checked[key]:
            return checked[key]
    return None


def folder_action(path: Path) -> str:
    """What a run folder asks for: TRAIN (no run yet), SKIP (finished) or RESUME (half done)."""
    if not (path / CONFIG).is_file():
        return TRAIN
    summary = RunDir.open(path).read_summary()
    if summary is not None and summary.get("status") in COMPLETE:
        return SKIP
    return RESUME if (path / CHECKPOINT).is_file() else TRAIN


def _check_unique(tasks: list[RunTask]) -> None:
    seen: dict[str, dict] = {}
    for task in tasks:
        if task.name in seen and seen[task.name]["data"] != task.config["data"]:
            raise CollapsekitError(
                f"datasets {seen[task.name]['data']!r} and {task.config['data']!r} share the folder "
                f"{task.name}; write their parameters the same way or run them in separate --out folders"
            )
        seen[task.name] = task.config


def _check_settings_match(tasks: list[RunTask]) -> None:
    from reference_models import TrainConfig

    for task in tasks:
        if task.action not in (SKIP, RESUME):  # nothing there, or nothing worth keeping
            continue
        stored = dataclasses.asdict(TrainConfig.from_dict(RunDir.open(task.run_dir).read_config()))
        wanted = dataclasses.asdict(TrainConfig(**task.config))
        # None: the kind's default, filled in (and stored) when the run was built
        differ = [
            k
            for k in wanted
            if k not in ("device", "options") and wanted[k] is not None and stored[k] != wanted[k]
        ]
        if _options_used(wanted) != _options_used(stored):
            differ.append("options")
        if differ:
            changes = ", ".join(f"{k} {stored[k]!r} -> {wanted[k]!r}" for k in differ)
            raise CollapsekitError(
                f"{task.run_dir} holds a run with other settings ({changes}); "
                "rerun it with --force or choose another --out"
            )


def _options_used(config: dict) -> dict | str:
    """The model options a run with ``config`` trains with: those given over the defaults.

    Runs store every option they used, a sweep only those given, so the two are
    compared after filling in the defaults (which may depend on the kind of data).
    """
    import reference_models
    from reference_models.training import data_kind

    try:
        model = reference_models.get_model(config["model"])
        return model.resolve_options(config["options"] or {}, data_kind(get_dataset(config["data"])))
    except CollapsekitError as error:  # e.g. an option this version no longer knows
        return f"invalid ({error})"


# -- one run, in a worker -----------------------------------------------------------------------
def run_task(task: RunTask) -> RunOutcome:
    """Train, resume or skip one run in this process; errors come back in the outcome."""
    started = time.perf_counter()
    _limit_threads(task.threads)
    action = task.action
    try:
        import reference_models

        path = Path(task.run_dir)
        with run_lock(path) as held:
            if not held:
                raise CollapsekitError(
                    f"another process is training {path} (it holds {lock_path(path)}); "
                    "let it finish or stop it, then run the sweep again"
                )
            if task.force and (path / CONFIG).is_file():
                shutil.rmtree(path)
            action = folder_action(path)  # again: the folder may have changed since planning
            if action == SKIP:
                return _outcome_from_folder(task)
            if action == RESUME:
                summary = reference_models.resume(path, progress=False)
            else:
                if (path / CONFIG).is_file():  # killed before its first checkpoint: nothing to keep
                    shutil.rmtree(path)
                summary = reference_models.train(
                    reference_models.TrainConfig(**task.config), path, progress=False
                )
    except Exception as error:
        details = None if isinstance(error, CollapsekitError) else traceback.format_exc()
        return failed_outcome(task, error, action, time.perf_counter() - started, details)
    return RunOutcome(
        task.name,
        task.run_dir,
        action,
        summary.status,
        summary.step,
        json_safe(summary.metrics),  # as summary.json holds them: NaN is None
        elapsed_s=round(time.perf_counter() - started, 3),
    )


def lock_path(run_dir: Path) -> Path:
    """The lock file of a run: beside its folder, so --force can remove the folder while held."""
    return run_dir.parent / f".{run_dir.name}.lock"


@contextlib.contextmanager
def run_lock(run_dir: Path):
    """Hold the run's lock while training it; yields False when another process holds it.

    Two sweeps over the same folder (a rerun while the first still trains, two Ray
    clusters on one shared folder) would otherwise train the same run at once and
    interleave their writes. The lock is ``flock`` on a file beside the folder: the
    OS drops it when its holder dies, even by SIGKILL, so no stale lock outlives a
    crash (only an empty lock file). The holder removes the file when done. Where
    ``fcntl`` is missing (Windows) runs are not locked.
    """
    try:
        import fcntl
    except ImportError:
        yield True
        return
    run_dir.parent.mkdir(parents=True, exist_ok=True)
    path = lock_path(run_dir)
    while True:
        handle = open(path, "a+b")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            yield False
            return
        try:  # the holder before us may have removed the file after we opened it: lock anew
            if os.stat(path).st_ino == os.fstat(handle.fileno()).st_ino:
                break
        except FileNotFoundError:
            pass
        handle.close()
    try:
        yield True
    finally:  # removed while still held, so nobody can take the old file for the lock
        path.unlink(missing_ok=True)
        handle.close()


def run_is_locked(run_dir: Path) -> bool:
    """Whether another process holds the run's lock now (writes nothing)."""
    try:
        import fcntl

        handle = open(lock_path(run_dir), "rb")
    except (ImportError, FileNotFoundError):
        return False
    with handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        fcntl.flock(handle, fcntl.LOCK_UN)
        return False


def failed_outcome(
    task: RunTask, error: BaseException, action: str, elapsed: float = 0.0, details=None
):
    """The outcome of a run that raised ``error``."""
    message = f"{type(error).__name__}: {error}"
    return RunOutcome(
        task.name,
        task.run_dir,
        action,
        FAILED,
        error=message,
        traceback=details,
        elapsed_s=round(elapsed, 3),
    )


def _outcome_from_folder(task: RunTask) -> RunOutcome:
    summary = RunDir.open(task.run_dir).read_summary() or {}
    return RunOutcome(
        task.name,
        task.run_dir,
        SKIP,
        summary.get("status", "finished"),
        summary.get("step"),
        summary.get("metrics", {}),
    )


def _limit_threads(threads: int) -> None:
    import torch

    torch.set_num_threads(threads)
    try:
        torch.set_num_interop_threads(1)  # only possible before the first parallel op
    except RuntimeError:
        pass


# -- running a plan -------------------------------------------------------------------------------
def usable_cores() -> int:
    """Cores this process may run on (its affinity mask where the OS has one)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def parallelism(
    backend: str, workers: int | None, threads: int | None, runs: int
) -> tuple[int, int]:
    """(runs at once, torch threads per run): one run per core and cores // workers threads by default.

    On Ray the default is as many runs at once as Ray has CPUs for, one thread each.
    """
    if backend == "ray":
        return workers or max(runs, 1), threads or 1
    workers = workers or max(1, min(usable_cores(), runs))
    return workers, threads or max(1, usable_cores() // workers)


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
            report(_outcome_from_folder(task))
        elif task.action == INVALID:
            report(RunOutcome(task.name, task.run_dir, TRAIN, FAILED, error=task.error))
    pending = [task for task in tasks if task.action not in (SKIP, INVALID)]
    runs_at_once, threads = parallelism(backend, workers, threads_per_run, len(pending))
    pending = [dataclasses.replace(task, threads=threads) for task in pending]
    if pending and backend == "local":
        _run_local(pending, runs_at_once, report)
    elif pending:
        _run_ray(pending, runs_at_once, address, gpus_per_run, report)
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


def _run_local(tasks: list[RunTask], workers: int, report) -> None:
    """Spawned worker processes, at most ``workers`` runs at once; a crashed worker costs only its runs."""
    context = _pool_context()
    waiting = deque(tasks)
    while waiting:
        with ProcessPoolExecutor(
            max_workers=workers,
            mp_context=context,
            initializer=_init_worker,
            initargs=(os.getpid(),),
        ) as pool:
            _feed_pool(pool, waiting, workers, report)


_WATCH: _SweepWatch | None = None  # in a pool worker: the watch on its sweep


def _init_worker(sweep_pid: int) -> None:
    """Pool initializer: watch the sweep process, and stop cleanly on SIGTERM."""
    global _WATCH
    if os.name == "posix":  # elsewhere os.kill(pid, 0) would end the sweep, not ask about it
        _WATCH = _SweepWatch(sweep_pid)
    signal.signal(signal.SIGTERM, _stop_on_sigterm)


def _stop_on_sigterm(signum, frame) -> None:
    """SIGTERM in a worker (from ``interrupt_workers``, a job scheduler, or ``kill`` of that
    worker) interrupts its run as Ctrl-C would: the run is marked ``interrupted``, keeps
    its last checkpoint and comes back as an ``interrupted`` outcome. An idle worker
    ignores it (the pool ends idle workers itself). SIGINT is no use for this: a sweep
    started in the background of a script inherits SIGINT ignored.
    """
    if _WATCH is None or _WATCH.idle.is_set():
        return
    signal.signal(signal.SIGTERM, signal.SIG_IGN)  # once: let the interrupted run write its summary
    raise KeyboardInterrupt


def run_task_in_worker(task: RunTask) -> RunOutcome:
    """``run_task`` in a pool worker, under the watch that stops it if the sweep dies.

    An interruption (SIGTERM) comes back as an ``interrupted`` outcome rather than a
    KeyboardInterrupt, which would stop the whole sweep: a stop meant for the sweep
    reaches the sweep itself too, and one meant for this run stops this run only.
    """
    watch = _WATCH
    started = time.perf_counter()
    if watch is not None:
        watch.idle.clear()
    try:
        return run_task(task)
    except KeyboardInterrupt:
        return _interrupted_outcome(task, time.perf_counter() - started)
    finally:
        if watch is not None:
            watch.idle.set()
            if watch.orphaned.is_set():
                os._exit(1)  # nobody is left to take the outcome
        signal.signal(signal.SIGTERM, _stop_on_sigterm)  # armed again for the next run


def _interrupted_outcome(task: RunTask, elapsed_s: float) -> RunOutcome:
    try:
        summary = RunDir.open(task.run_dir).read_summary() or {}
    except (CollapsekitError, OSError):  # interrupted before the folder was complete
        summary = {}
    return RunOutcome(
        task.name,
        task.run_dir,
        task.action,
        "interrupted",
        summary.get("step"),
        summary.get("metrics", {}),
        elapsed_s=round(elapsed_s, 3),
    )


class _SweepWatch:
    """Ends this worker when the sweep process ``pid`` is gone, interrupting its run first.

    A worker forked from the fork server is not the sweep's child, and nothing else
    tells it that the sweep has gone (killed with SIGKILL, or crashed): it would
    train on, unseen, and a restarted sweep would resume the same run folder beside
    it. The watch interrupts the run as Ctrl-C would (it is marked ``interrupted``
    and keeps its last checkpoint), waits for that to be written, and ends the
    process; an idle worker just ends.
    """

    def __init__(self, pid: int, interval_s: float = SWEEP_WATCH_INTERVAL_S) -> None:
        self.pid = pid
        self.parent = os.getppid()  # the sweep, or the fork server: either one's end is the sweep's
        self.interval_s = interval_s
        self.orphaned = threading.Event()
        self.idle = threading.Event()
        self.idle.set()
        threading.Thread(target=self._watch, name="collapsekit-sweep-watch", daemon=True).start()

    def _watch(self) -> None:
        while os.getppid() == self.parent and _process_alive(self.pid):
            time.sleep(self.interval_s)
        self.orphaned.set()
        if not self.idle.is_set():
            _thread.interrupt_main(signal.SIGTERM)  # to _stop_on_sigterm: the run is interrupted
            self.idle.wait(timeout=SWEEP_WATCH_GRACE_S)
        os._exit(1)


def _process_alive(pid: int) -> bool:
    """Whether process ``pid`` exists and is not a zombie (dead, waiting to be reaped)."""
    try:
        os.kill(pid, 0)  # signal 0: only asks whether the process exists
    except (ProcessLookupError, PermissionError):  # gone (or its pid now belongs to another user)
        return False
    except OSError:  # where signal 0 is not supported: assume alive
        return True
    try:
        with open(f"/proc/{pid}/stat", "rb") as stat:  # Linux: "pid (name) state ..."
            return stat.read().rsplit(b")", 1)[1].split()[0] != b"Z"
    except (OSError, IndexError):  # no /proc: signal 0 is all we know
        return True


def interrupt_workers() -> None:
    """Stop every worker of this process's pools as Ctrl-C in a terminal would.

    For a stop that reached the sweep alone (``kill PID``): each worker gets SIGTERM,
    which its run takes as an interruption (marked ``interrupted``, last checkpoint
    kept), and the pool can then shut down.
    """
    for child in multiprocessing.active_children():
        try:
            os.kill(child.pid, signal.SIGTERM)
        except OSError:  # already gone
            pass


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


def _feed_pool(pool: ProcessPoolExecutor, waiting: deque, workers: int, report) -> None:
    running = {}
    while waiting or running:
        while waiting and len(running) < workers:
            task = waiting.popleft()
            running[pool.submit(run_task_in_worker, task)] = task
        done, _ = wait(running, return_when=FIRST_COMPLETED)
        broken = False
        for future in done:
            task = running.pop(future)
            try:
                report(future.result())
            except BrokenProcessPool as error:
                broken = True
                report(failed_outcome(task, error, task.action))
            except Exception as error:  # the outcome could not come back (e.g. unpicklable)
                report(failed_outcome(task, error, task.action))
        if broken:  # a worker died (killed, out of memory): the pool is gone; start a new one
            for task in running.values():
                report(
                    failed_outcome(task, BrokenProcessPool("a worker process died"), task.action)
                )
            return


def import_ray():
    """The ``ray`` module, or a CollapsekitError saying how to install it."""
    try:
        import ray
    except ImportError:
        raise CollapsekitError(
            f"the ray backend needs Ray, which is not installed; install it with: {RAY_INSTALL_HINT}"
        ) from None
    return ray


def _run_ray(tasks: list[RunTask], workers: int, address: str | None, gpus: float, report) -> None:
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
