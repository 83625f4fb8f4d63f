"""``collapsekit sweep``: models x datasets x seeds, locally or on Ray; run it again to resume."""

from __future__ import annotations

import collections
import dataclasses
from pathlib import Path

import click
from tqdm.auto import tqdm

from collapsekit.cli.common import clear_errors, sigterm_as_ctrl_c
from collapsekit.cli.run import _model_options
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
    check_backend,
    interrupt_workers,
    load_grid,
    outcome_from_folder,
    parallelism,
    parse_seeds,
    plan_sweep,
    run_is_locked,
    run_tasks,
    split_specs,
)

# Trainer settings that pass through to every run (TrainConfig field names).
SETTINGS = (
    "protocol",
    "d_width",
    "steps",
    "eval_every",
    "eval_samples",
    "batch_size",
    "lr_generator",
    "lr_discriminator",
    "device",
)
DEFAULTS = {"models": ["vanilla"], "data": ["ring8"], "seeds": [0, 1, 2, 3, 4]}


@click.command("sweep")
@click.option(
    "--models",
    multiple=True,
    help="Comma list of reference trainers, e.g. vanilla,unrolled,minibatch  [default: vanilla].",
)
@click.option(
    "--data",
    multiple=True,
    help="Comma list of dataset specs, e.g. ring8,grid25 or ring8:std=0.01,grid25  [default: ring8].",
)
@click.option("--seeds", default=None, help="Seeds: 0-4, 0,2,5 or 0-2,7  [default: 0-4].")
@click.option(
    "--protocol",
    default=None,
    help="Named defaults from a paper's code for every run (see `collapsekit list`)  [default: default].",
)
@click.option(
    "--grid",
    "grid_file",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="TOML file with the grid (see docs/sweep.md); flags given here override it.",
)
@click.option(
    "--out",
    type=click.Path(path_type=Path),
    default=Path("runs"),
    show_default=True,
    help="Folder that receives one folder per run (shared by all nodes on a cluster).",
)
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    default=None,
    help="Runs at once  [default: one per core locally; as many as Ray has CPUs for].",
)
@click.option(
    "--threads",
    type=click.IntRange(min=1),
    default=None,
    help="Torch threads per run  [default: cores // workers locally, 1 on Ray].",
)
@click.option(
    "--backend",
    type=click.Choice(["local", "ray"]),
    default="local",
    show_default=True,
    help="Where runs execute: a local process pool or Ray (pip install 'collapsekit[ray]').",
)
@click.option(
    "--address",
    default=None,
    help="Ray only: the cluster's address, e.g. ray://head:10001  [default: RAY_ADDRESS, else a new local Ray instance].",
)
@click.option(
    "--gpus-per-run",
    type=click.FloatRange(min=0),
    default=0.0,
    help="Ray only: GPUs each run asks for (0.25 puts four runs on one GPU)  [default: 0].",
)
@click.option(
    "--force", is_flag=True, help="Run every grid point again from the start, even finished ones."
)
@click.option(
    "--steps",
    type=click.IntRange(min=1),
    default=None,
    help="Training steps per run  [default: 25000].",
)
@click.option(
    "--eval-every",
    type=click.IntRange(min=1),
    default=None,
    help="Steps between evaluations  [default: 1000].",
)
@click.option(
    "--eval-samples",
    type=click.IntRange(min=1),
    default=None,
    help="Samples per evaluation  [default: the dataset's protocol].",
)
@click.option(
    "--batch-size", type=click.IntRange(min=1), default=None, help="Batch size  [default: 512]."
)
@click.option(
    "--lr-generator",
    type=click.FloatRange(min=0, min_open=True),
    default=None,
    help="Adam learning rate of G  [default: 1e-3].",
)
@click.option(
    "--lr-discriminator",
    type=click.FloatRange(min=0, min_open=True),
    default=None,
    help="Adam learning rate of D  [default: 1e-4].",
)
@click.option(
    "--device", default=None, help="auto (CUDA when available), cpu or cuda  [default: auto]."
)
@click.option(
    "--unroll-steps",
    type=click.IntRange(min=0),
    default=None,
    help="Unrolled GAN: look-ahead steps of D  [default: 5].",
)
@click.option(
    "--kernels",
    type=click.IntRange(min=1),
    default=None,
    help="Minibatch discrimination: number of kernels  [default: 100; 5 on 2-D data].",
)
@click.option(
    "--kernel-dim",
    type=click.IntRange(min=1),
    default=None,
    help="Minibatch discrimination: dimension per kernel  [default: 5].",
)
@click.option(
    "--d-width",
    default=None,
    help="Metz nets: D's channels, quarter, half or full of G's  [default: quarter under --protocol metz].",
)
@click.option(
    "--pack",
    type=click.IntRange(min=1),
    default=None,
    help="PacGAN: samples the discriminator judges together  [default: 2].",
)
@click.option(
    "--option",
    "options",
    multiple=True,
    metavar="KEY=VALUE",
    help="Model option (repeatable); it reaches the models that take it.",
)
@click.option(
    "--progress/--no-progress",
    default=True,
    show_default=True,
    help="Show the overall progress bar.",
)
@click.option(
    "--dry-run",
    is_flag=True,
    help="Only show what the sweep would do with each run (train, resume, skip) and how far "
    "each has got; train nothing.",
)
@click.pass_context
@clear_errors
def sweep_command(context: click.Context, **kwargs) -> None:
    """Run every model on every dataset with every seed, one folder per run.

    Running the same command again skips finished runs and resumes half-finished
    ones from their last checkpoint; --force starts them all again.

    \b
    Examples:
      collapsekit sweep --models vanilla,unrolled --data ring8,grid25 --seeds 0-4 --out runs/
      collapsekit sweep --grid sweep.toml --workers 2
      collapsekit sweep --grid sweep.toml --backend ray --address ray://head:10001 --out /shared/runs
    """
    check_backend(
        kwargs["backend"],
        kwargs["workers"],
        kwargs["threads"],
        kwargs["address"],
        kwargs["gpus_per_run"],
    )
    grid = _grid(kwargs)
    tasks = plan_sweep(grid, kwargs["out"], force=kwargs["force"])
    pending = sum(task.action not in (SKIP, INVALID) for task in tasks)
    workers, threads = parallelism(kwargs["backend"], kwargs["workers"], kwargs["threads"], pending)
    click.echo(_header(grid, tasks, kwargs, workers, threads), err=True)
    if kwargs["dry_run"]:
        for task in tasks:
            click.echo(_plan_line(task))
        return
    outcomes = _run_with_progress(tasks, kwargs)
    click.echo(_footer(outcomes, kwargs["out"], "report" in context.find_root().command.commands))
    if any(outcome.status == FAILED for outcome in outcomes):  # with -v, tracebacks were logged
        context.exit(1)


def _grid(kwargs: dict) -> SweepGrid:
    grid = load_grid(kwargs["grid_file"]) if kwargs["grid_file"] else SweepGrid(**DEFAULTS)
    if kwargs["models"]:
        grid.models = [name for text in kwargs["models"] for name in split_specs(text)]
    if kwargs["data"]:
        grid.data = [spec for text in kwargs["data"] for spec in split_specs(text)]
    if kwargs["seeds"] is not None:
        grid.seeds = parse_seeds(kwargs["seeds"])
    settings = {name: kwargs[name] for name in SETTINGS if kwargs[name] is not None}
    options = _model_options(kwargs)  # --option pairs and the named flags, as `collapsekit run`
    return dataclasses.replace(
        grid, settings={**grid.settings, **settings}, options={**grid.options, **options}
    )


def _run_with_progress(tasks, kwargs: dict) -> list[RunOutcome]:
    bar = tqdm(total=len(tasks), unit="run", disable=not kwargs["progress"], dynamic_ncols=True)
    done = 0

    def show(outcome: RunOutcome) -> None:
        nonlocal done
        done += 1
        line = f"[{done:>{len(str(len(tasks)))}}/{len(tasks)}] {_outcome_line(outcome)}"
        if bar.disable:
            click.echo(line)
        else:
            bar.write(line)
            bar.update(1)

    # kill PID reaches the sweep alone: pass it on to the workers, as Ctrl-C reaches them all
    with bar, sigterm_as_ctrl_c(before=interrupt_workers):
        try:
            return run_tasks(
                tasks,
                backend=kwargs["backend"],
                workers=kwargs["workers"],
                threads_per_run=kwargs["threads"],
                address=kwargs["address"],
                gpus_per_run=kwargs["gpus_per_run"],
                on_outcome=show,
            )
        except KeyboardInterrupt:
            bar.close()
            click.echo(
                f"\nInterrupted; run the same command again to resume from {kwargs['out']}.",
                err=True,
            )
            raise SystemExit(130) from None


def _plan_line(task: RunTask) -> str:
    """What the sweep would do with one run, and how far the run has got."""
    if task.action == INVALID:
        detail = f"cannot start: {task.error}"
    elif task.action == SKIP:
        outcome = outcome_from_folder(task)
        measured = _outcome_line(outcome).split("(done earlier)", 1)[-1].strip()  # the metrics
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


def _outcome_line(outcome: RunOutcome) -> str:
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


def _header(grid: SweepGrid, tasks, kwargs: dict, workers: int, threads: int) -> str:
    counts = collections.Counter(task.action for task in tasks)
    sizes = (
        len(dict.fromkeys(grid.models)),
        len(dict.fromkeys(grid.data)),
        len(dict.fromkeys(grid.seeds)),
    )
    shape = " x ".join(
        _count(n, word) for n, word in zip(sizes, ("model", "dataset", "seed"), strict=True)
    )
    where = f"{kwargs['backend']}, {workers} at once x {_count(threads, 'thread')}"
    return (
        f"Sweep of {len(tasks)} runs ({shape}) -> {kwargs['out']} ({where}): "
        f"{counts[TRAIN]} to train, {counts[RESUME]} to resume, {counts[SKIP]} done earlier"
        + (f", {counts[INVALID]} invalid" if counts[INVALID] else "")
    )


def _count(number: int, word: str) -> str:
    return f"{number} {word}{'' if number == 1 else 's'}"


def _footer(outcomes: list[RunOutcome], out: Path, has_report: bool) -> str:
    failed = [outcome for outcome in outcomes if outcome.status == FAILED]
    statuses = collections.Counter(outcome.status for outcome in outcomes)
    order = sorted(statuses, key=lambda status: (status == FAILED, status))  # failures last
    text = f"{_count(len(outcomes), 'run')}: " + ", ".join(f"{statuses[s]} {s}" for s in order)
    if statuses.get("interrupted"):
        text += "\nInterrupted runs keep their last checkpoint; run the same command again to resume."
    if failed:
        text += f"\nFailed ({len(failed)}); fix the cause and run the same command again:"
        text += "".join(f"\n  {outcome.name}: {outcome.error}" for outcome in failed)
    if has_report:
        text += f"\nCompare them with: collapsekit report {out}"
    else:
        text += f"\nLoad them with: collapsekit.load_runs({str(out)!r})"
    return text
