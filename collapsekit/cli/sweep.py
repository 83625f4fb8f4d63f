"""``collapsekit sweep``: models x datasets x seeds, locally or on Ray; run it again to resume."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import click
from tqdm.auto import tqdm

from collapsekit.cli.common import clear_errors, sigterm_as_ctrl_c
from collapsekit.cli.run import _model_options
from collapsekit.cli.sweep_lines import footer, header, outcome_line, plan_line
from collapsekit.sweep import (
    FAILED,
    INVALID,
    SKIP,
    RunOutcome,
    SweepGrid,
    check_backend,
    interrupt_workers,
    load_grid,
    parallelism,
    parse_seeds,
    plan_sweep,
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
    click.echo(header(grid, tasks, kwargs, workers, threads), err=True)
    if kwargs["dry_run"]:
        for task in tasks:
            click.echo(plan_line(task))
        return
    outcomes = _run_with_progress(tasks, kwargs)
    click.echo(footer(outcomes, kwargs["out"], "report" in context.find_root().command.commands))
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
        line = f"[{done:>{len(str(len(tasks)))}}/{len(tasks)}] {outcome_line(outcome)}"
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
