"""What ``collapsekit sweep`` prints: its header, one line per planned run or outcome, and its footer."""

from __future__ import annotations

import collections
from pathlib import Path

from collapsekit.metrics import keys
from collapsekit.runs import CONFIG, RunDir
from collapsekit.sweep import (
    FAILED,
    INVALID,
    RESUME,
    SKIP,
    TRAIN,
    RunOutcome,
    RunTask,
    SweepGrid,
    outcome_from_folder,
    run_is_locked,
)


def plan_line(task: RunTask) -> str:
    """What the sweep would do with one run, and how far the run has got."""
    if task.action == INVALID:
        detail = f"cannot start: {task.error}"
    elif task.action == SKIP:
        outcome = outcome_from_folder(task)
        measured = outcome_line(outcome).split("(done earlier)", 1)[-1].strip()  # the metrics
        detail = f"done: {outcome.status}  {measured}".rstrip()
    elif task.action == RESUME:
        run = RunDir.open(task.run_dir)
        history, steps = run.read_history(), run.read_config().get("steps")  # the folder's own
        reached = int(history[keys.STEP].max()) if len(history) else 0
        of = f" of {steps:,}" if isinstance(steps, int) else ""
        detail = f"measured up to step {reached:,}{of}; resumes from its last checkpoint"
    elif task.force and (Path(task.run_dir) / CONFIG).is_file():
        detail = "--force: starts again from step 0"
    elif (Path(task.run_dir) / CONFIG).is_file():
        detail = "stopped before its first checkpoint: starts again"
    else:
        detail = "new"
    if task.action in (TRAIN, RESUME) and run_is_locked(Path(task.run_dir)):
        detail += " (another process is training it now: this sweep would report it, not train it)"
    return f"{task.action:<8} {task.name}  {detail}"


def outcome_line(outcome: RunOutcome) -> str:
    if outcome.status == FAILED:
        return f"FAILED    {outcome.name}  {outcome.error}"
    metrics = outcome.metrics
    parts = [f"{outcome.status:<9} {outcome.name}"]
    if outcome.action == SKIP:
        parts.append("(done earlier)")
    elif outcome.action == RESUME:
        parts.append("(resumed)")
    if keys.MODES_CAPTURED in metrics:
        parts.append(f"modes {metrics[keys.MODES_CAPTURED]}/{metrics[keys.MODES_TOTAL]}")
    for key, label in (
        (keys.HIGH_QUALITY_FRAC, "hq"),
        (keys.D_REAL, "D(x)"),
        (keys.D_FAKE, "D(G(z))"),
    ):
        if isinstance(metrics.get(key), (int, float)):
            parts.append(f"{label} {metrics[key]:.3f}")
    if outcome.action != SKIP:
        parts.append(f"{outcome.elapsed_s:.1f} s")
    return "  ".join(parts)


def header(grid: SweepGrid, tasks, kwargs: dict, workers: int, threads: int) -> str:
    """``Sweep of 20 runs (2 models x 2 datasets x 5 seeds) -> OUT (...): 17 to train, ...``."""
    counts = collections.Counter(task.action for task in tasks)
    sizes = (
        len(dict.fromkeys(grid.models)),
        len(dict.fromkeys(grid.data)),
        len(dict.fromkeys(grid.seeds)),
    )
    shape = " x ".join(
        count(n, word) for n, word in zip(sizes, ("model", "dataset", "seed"), strict=True)
    )
    where = f"{kwargs['backend']}, {workers} at once x {count(threads, 'thread')}"
    return (
        f"Sweep of {len(tasks)} runs ({shape}) -> {kwargs['out']} ({where}): "
        f"{counts[TRAIN]} to train, {counts[RESUME]} to resume, {counts[SKIP]} done earlier"
        + (f", {counts[INVALID]} invalid" if counts[INVALID] else "")
    )


def count(number: int, word: str) -> str:
    """``1 seed``, ``5 seeds``."""
    return f"{number} {word}{'' if number == 1 else 's'}"


def footer(outcomes: list[RunOutcome], out: Path, has_report: bool) -> str:
    """How the runs ended, the failures with their errors, and how to compare the runs."""
    failed = [outcome for outcome in outcomes if outcome.status == FAILED]
    statuses = collections.Counter(outcome.status for outcome in outcomes)
    order = sorted(statuses, key=lambda status: (status == FAILED, status))  # failures last
    text = f"{count(len(outcomes), 'run')}: " + ", ".join(f"{statuses[s]} {s}" for s in order)
    if statuses.get("interrupted"):
        text += (
            "\nInterrupted runs keep their last checkpoint; run the same command again to resume."
        )
    if failed:
        text += f"\nFailed ({len(failed)}); fix the cause and run the same command again:"
        text += "".join(f"\n  {outcome.name}: {outcome.error}" for outcome in failed)
    if has_report:
        text += f"\nCompare them with: collapsekit report {out}"
    else:
        text += f"\nLoad them with: collapsekit.load_runs({str(out)!r})"
    return text
