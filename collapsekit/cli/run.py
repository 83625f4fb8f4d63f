"""``collapsekit run``: train a bundled reference GAN on a benchmark, watch it, store the run."""

from __future__ import annotations

import datetime
import re
from pathlib import Path

import click

from collapsekit.cli.common import CommandError, clear_errors, format_table, sigterm_as_ctrl_c
from collapsekit.cli.run_folder import (
    claim_run_folder,
    disk_full_line,
    holding_run,
    interrupted_line,
    resume_line,
)
from collapsekit.cli.threads import threads_option, use_threads
from collapsekit.data import get_dataset
from collapsekit.errors import DiskFullError
from collapsekit.metrics import keys
from collapsekit.monitor import Summary

SUMMARY_KEYS = (
    keys.MODES_CAPTURED,
    keys.MODES_COVERED,
    keys.MODES_TOTAL,
    keys.HIGH_QUALITY_FRAC,
    keys.MODE_KL,
    keys.D_REAL,
    keys.D_FAKE,
    keys.D_GAP,
)


def _parse_options(values: tuple[str, ...]) -> dict:
    options = {}
    for item in values:
        key, sep, text = item.partition("=")
        if not sep or not key:
            raise CommandError(f"--option {item!r} is not key=value; write e.g. --option unroll_steps=5")
        options[key.strip().replace("-", "_")] = _number(text.strip())
    return options


MODEL_OPTION_FLAGS = {
    "unroll_steps": "--unroll-steps",
    "kernels": "--kernels",
    "kernel_dim": "--kernel-dim",
    "pack": "--pack",
}


def _model_options(kwargs: dict) -> dict:
    """``--option key=value`` pairs plus the named model flags (which must agree with them)."""
    options = _parse_options(kwargs["options"])
    for key, flag in MODEL_OPTION_FLAGS.items():
        value = kwargs[key]
        if value is None:
            continue
        if key in options and options[key] != value:
            raise CommandError(
                f"{flag} {value} and --option {key}={options[key]} disagree; give one of them"
            )
        options[key] = value
    return options


def _number(text: str) -> object:
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return {"true": True, "false": False}.get(text.lower(), text)


def default_run_name(model: str, data: str, seed: int) -> str:
    """``<model>-<dataset>-seed<seed>-<timestamp>``, safe as a folder name."""
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    slug = re.sub(r"[^A-Za-z0-9_.=-]+", "_", data.replace(":", "_").replace(",", "_"))
    return f"{model}-{slug}-seed{seed}-{stamp}"


@click.command("run")
@click.option("--model", default="vanilla", show_default=True, help="Reference trainer (see `collapsekit list`).")
@click.option("--protocol", default="default", show_default=True, help="Named defaults from a paper's code: default, pacgan (PacGAN Table 1), veegan (VEEGAN Table 1 via Metz et al.'s notebook), metz (PacGAN Table 3's stacked MNIST); see `collapsekit list`. Flags given explicitly win over it.")
@click.option("--data", default="ring8", show_default=True, help="Dataset name with optional parameters, e.g. ring8:radius=1,std=0.01.")
@click.option("--seed", type=click.IntRange(min=0), default=0, show_default=True, help="Random seed (non-negative integer).")
@click.option("--steps", type=click.IntRange(min=1), default=None, help="Training steps  [default: 25000; 5000 for image data].")
@click.option("--eval-every", type=click.IntRange(min=1), default=None, help="Steps between evaluations  [default: 1000; 500 for image data].")
@click.option("--eval-samples", type=click.IntRange(min=1), default=None, help="Samples per evaluation  [default: the dataset's protocol, 2500 for 2-D].")
@click.option("--batch-size", type=click.IntRange(min=1), default=None, help="Batch size of real and generated samples  [default: 512; 64 for image data].")
@click.option("--lr-generator", type=click.FloatRange(min=0, min_open=True), default=None, help="Adam learning rate of G  [default: 1e-3; 2e-4 for image data].")
@click.option("--lr-discriminator", type=click.FloatRange(min=0, min_open=True), default=None, help="Adam learning rate of D  [default: 1e-4; 2e-4 for image data].")
@click.option("--unroll-steps", type=int, default=None, help="unrolled: look-ahead steps K of D's optimiser  [default: 5].")
@click.option("--kernels", type=int, default=None, help="minibatch: kernels B of the minibatch layer  [default: 100; 5 on 2-D data].")
@click.option("--kernel-dim", type=int, default=None, help="minibatch: dimension C of each kernel  [default: 5].")
@click.option("--d-width", default=None, help="metz nets: D's channels, quarter, half or full of G's  [default: quarter under --protocol metz].")
@click.option("--pack", type=int, default=None, help="pacgan: samples the discriminator judges together, m  [default: 2].")
@click.option("--option", "options", multiple=True, metavar="KEY=VALUE", help="Model-specific option (repeatable), e.g. unroll_steps=5.")
@click.option("--out", type=click.Path(path_type=Path), default=Path("runs"), show_default=True, help="Folder that receives the run folder.")
@click.option("--name", default=None, help="Run folder name  [default: <model>-<data>-seed<seed>-<time>].")
@click.option("--device", default="auto", show_default=True, help="auto (CUDA when available), cpu or cuda.")
@click.option("--resume", "resume_dir", type=click.Path(path_type=Path), default=None, help="Continue the run in this folder from its last checkpoint (other options are read from it).")
@click.option("--dry-run", is_flag=True, help="Smoke test: 20 steps, evaluation every 10, 500 samples.")
@click.option("--progress/--no-progress", default=True, show_default=True, help="Show a progress bar with live metrics.")
@threads_option
@clear_errors
def run_command(**kwargs) -> None:
    """Train a reference GAN on a benchmark with known modes, watch it and store the run.

    \b
    Examples:
      collapsekit run --model vanilla --data ring8
      collapsekit run --model unrolled --data ring8 --unroll-steps 5
      collapsekit run --model minibatch --data grid25 --kernels 100 --kernel-dim 5
      collapsekit run --protocol pacgan --model pacgan --pack 2 --data ring8
      collapsekit run --protocol veegan --model unrolled --data grid25
      collapsekit run --protocol metz --model vanilla --data stacked-digits --d-width quarter
      collapsekit run --model vanilla --data grid25 --seed 3 --steps 5000 --eval-every 500 --out runs/
      collapsekit run --resume runs/vanilla-ring8-seed0-20261124-101500
    """
    import reference_models  # the CLI is the one place that knows both packages

    if kwargs["resume_dir"] is not None:
        summary = _resume(reference_models, kwargs)
    else:
        summary = _start(reference_models, kwargs)
    _print_summary(summary)


def _check_model_flags(reference_models, kwargs: dict) -> None:
    """A model flag (--pack, --unroll-steps, ...) given to a model that does not take it."""
    takes = reference_models.get_model(kwargs["model"]).option_defaults
    for key, flag in MODEL_OPTION_FLAGS.items():
        if kwargs[key] is not None and key not in takes:
            models = [m for m in reference_models.list_models() if key in reference_models.get_model(m).option_defaults]
            raise CommandError(
                f"unknown option(s) {key}: {flag} applies to {', '.join(models)} only, "
                f"not to --model {kwargs['model']}; drop {flag} or change the model"
            )


def _start(reference_models, kwargs: dict) -> Summary:
    _check_model_flags(reference_models, kwargs)
    config = _config(reference_models.TrainConfig, kwargs)
    trainer = reference_models.build_trainer(config)  # validate everything before writing a folder
    use_threads(kwargs["threads"], reference_models.training.data_kind(trainer.dataset))
    name = kwargs["name"] or default_run_name(config.model, config.data, config.seed)
    run_dir = claim_run_folder(kwargs["out"], name, numbered=kwargs["name"] is None)
    click.echo(f"Training {config.model} on {config.data} (seed {config.seed}, {config.steps:,} steps) -> {run_dir}", err=True)
    with holding_run(run_dir, "choose another --name"):
        return _interruptible(lambda: reference_models.train(config, run_dir, progress=kwargs["progress"]), run_dir)


def _resume(reference_models, kwargs: dict) -> Summary:
    from collapsekit.runs import RunDir

    run_dir = kwargs["resume_dir"]
    run = RunDir.open(run_dir)
    summary = run.read_summary()
    if summary is not None and summary.get("status") == "finished":
        click.echo(f"{run_dir} already finished; nothing to resume.", err=True)
        return Summary(
            "finished", summary.get("step"), summary.get("metrics", {}), summary.get("findings", []),
            str(run_dir), summary.get("elapsed_s") or 0.0,
        )  # fmt: skip
    dataset = get_dataset(str(run.read_config().get("data", "")))
    use_threads(kwargs["threads"], reference_models.training.data_kind(dataset))
    with holding_run(run_dir):
        click.echo(resume_line(run_dir), err=True)
        return _interruptible(lambda: reference_models.resume(run_dir, progress=kwargs["progress"]), run_dir)


def _interruptible(start, run_dir: Path) -> Summary:
    try:
        with sigterm_as_ctrl_c():
            return start()
    except KeyboardInterrupt:
        click.echo(f"\n{interrupted_line(Path(run_dir))}", err=True)
        raise SystemExit(130) from None
    except DiskFullError as error:
        raise CommandError(disk_full_line(error, Path(run_dir))) from None


def _config(config_class, kwargs: dict):
    values = {
        "model": kwargs["model"],
        "data": kwargs["data"],
        "seed": kwargs["seed"],
        "protocol": kwargs["protocol"],
        "device": kwargs["device"],
        "options": _model_options(kwargs),
    }
    for name in ("steps", "eval_every", "eval_samples", "batch_size", "lr_generator", "lr_discriminator", "d_width"):
        if kwargs[name] is not None:
            values[name] = kwargs[name]
    if kwargs["dry_run"]:
        values.update(steps=20, eval_every=10, eval_samples=500)
    return config_class(**values)


def _finding_line(finding: dict) -> str:
    """``collapsed [error, steps 4,000-25,000]: covers 1 of 8 modes ...`` from a summary.json finding."""
    start, end = finding.get("start_step"), finding.get("end_step")
    where = [str(finding.get("severity", ""))] if finding.get("severity") else []
    if start is not None:
        where.append(f"step {start:,}" if end in (None, start) else f"steps {start:,}-{end:,}")
    label = f"{finding.get('name', '?')} [{', '.join(where)}]" if where else str(finding.get("name", "?"))
    return f"{label}: {finding.get('message', '')}"


def _print_summary(summary: Summary) -> None:
    metrics = summary.metrics
    rows = [("status", summary.status), ("step", summary.step)]
    rows += [(key, metrics[key]) for key in SUMMARY_KEYS if key in metrics]
    rows.append(("time (s)", summary.elapsed_s))
    click.echo("Summary")
    click.echo(format_table(rows))
    if summary.findings:
        click.echo("Diagnosis")
    for finding in summary.findings:
        click.echo(f"  finding: {_finding_line(finding)}")
    click.echo(f"Run folder: {summary.run_dir}")
