"""One run of a sweep, in whatever process runs it: train, resume or skip its folder."""

from __future__ import annotations

import shutil
import time
import traceback
from pathlib import Path

from collapsekit.atomic import json_safe
from collapsekit.errors import CollapsekitError
from collapsekit.run_lock import lock_path, run_lock
from collapsekit.runs import CONFIG, RunDir
from collapsekit.sweep.plan import FAILED, RESUME, SKIP, RunOutcome, RunTask, folder_action
from collapsekit.threads import set_threads


def run_task(task: RunTask) -> RunOutcome:
    """Train, resume or skip one run in this process; errors come back in the outcome."""
    started = time.perf_counter()
    set_threads(task.threads)
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
                return outcome_from_folder(task)
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


def failed_outcome(
    task: RunTask,
    error: BaseException,
    action: str,
    elapsed: float = 0.0,
    details: str | None = None,
) -> RunOutcome:
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


def outcome_from_folder(task: RunTask) -> RunOutcome:
    """The outcome of a run its folder already holds (a SKIP): status, step and metrics."""
    summary = RunDir.open(task.run_dir).read_summary() or {}
    return RunOutcome(
        task.name,
        task.run_dir,
        SKIP,
        summary.get("status", "finished"),
        summary.get("step"),
        summary.get("metrics", {}),
    )
