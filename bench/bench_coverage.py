"""Coverage benchmark: vanilla, unrolled and minibatch GANs on ring8 and grid25 across seeds.

Trains every model on every dataset for every seed under the default protocol
(``TrainConfig`` defaults: 25,000 steps, batch 512, evaluation on 2,500 samples),
then prints, per model and dataset, the mean and standard deviation over seeds of
modes captured, high-quality fraction and ``mode_kl``, and the time per training
step relative to vanilla. Step times are measured twice: interleaved short timings
of every model on every dataset in this one process (the fair ratio on a shared
machine; also with ``--report-only``, unless ``--timing-steps 0``), and the mean
over each model's training runs (includes evaluations, and whatever else the
machine was running at the time).

Runs are stored under ``--out`` (one run folder each); finished runs are reused
and interrupted ones resumed from their last checkpoint, so the benchmark can be
stopped and started again. ``--report-only`` prints the table of what is there.

Usage:
    .venv/bin/python bench/bench_coverage.py                     # 3 models x 2 datasets x 5 seeds
    .venv/bin/python bench/bench_coverage.py --models vanilla,unrolled --data ring8 --seeds 0-1 --steps 5000
    .venv/bin/python bench/bench_coverage.py --report-only
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import statistics
import sys
import time
from pathlib import Path

import pandas as pd
import torch

sys.path.insert(
    0, str(Path(__file__).resolve().parents[1])
)  # run from a checkout without installing

import reference_models  # noqa: E402
from collapsekit.atomic import atomic_write_text  # noqa: E402
from collapsekit.metrics import keys  # noqa: E402
from collapsekit.runs import RunDir  # noqa: E402
from collapsekit.sweep import run_name as sweep_run_name  # noqa: E402

DEFAULT_STEPS = reference_models.training.DEFAULTS["vector"]["steps"]

METRICS = (keys.MODES_CAPTURED, keys.HIGH_QUALITY_FRAC, keys.MODE_KL)
# VEEGAN Table 1, modes captured (their protocol, their nets): for orientation only.
PUBLISHED_MODES = {
    ("vanilla", "ring8"): 1.0,
    ("unrolled", "ring8"): 7.6,
    ("vanilla", "grid25"): 3.3,
    ("unrolled", "grid25"): 23.6,
}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--models", default="vanilla,unrolled,minibatch", help="comma-separated model names"
    )
    parser.add_argument("--data", default="ring8,grid25", help="comma-separated dataset specs")
    parser.add_argument("--seeds", default="0-4", help="seeds: 0-4, 0,2,5 or 0-2,7")
    parser.add_argument(
        "--steps", type=int, default=None, help="training steps per run [default: 25000]"
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=Path("reports/reference/runs"),
        help="folder of the run folders (make reference-report's, committed)",
    )
    parser.add_argument(
        "--jobs", type=int, default=1, help="training processes at once (one thread each)"
    )
    parser.add_argument(
        "--timing-steps",
        type=int,
        default=20,
        help="steps per model in each timing round (0: skip)",
    )
    parser.add_argument(
        "--report-only", action="store_true", help="only print the table of runs already in --out"
    )
    args = parser.parse_args(argv)
    args.models = [m.strip() for m in args.models.split(",") if m.strip()]
    args.data = [d.strip() for d in args.data.split(",") if d.strip()]
    args.seeds = parse_seeds(args.seeds)
    args.steps = args.steps or DEFAULT_STEPS
    return args


def parse_seeds(text: str) -> list[int]:
    """Seeds as ``collapsekit sweep`` writes them: ``"0-4"`` -> 0..4, ``"0,2,5"``, ``"0-2,7"``, ``"3"`` -> [3]."""
    seeds: list[int] = []
    for part in text.split(","):
        first, _, last = part.strip().partition("-")
        seeds += range(int(first), int(last or first) + 1)
    return sorted(set(seeds))


def run_name(model: str, data: str, seed: int, steps: int) -> str:
    """The folder ``collapsekit sweep`` gives the run, so that ``make reference-report``'s runs
    serve here too; runs of other lengths get a ``-steps`` suffix."""
    name = sweep_run_name(model, data, seed)
    return name if steps == DEFAULT_STEPS else f"{name}-steps{steps}"


def train_one(task: tuple[str, str, int, int, str]) -> dict:
    """Train (or reuse, or resume) one run; return its row of final metrics."""
    model, data, seed, steps, out = task
    torch.set_num_threads(1)
    run_dir = Path(out) / run_name(model, data, seed, steps)
    summary = _finished_summary(run_dir)
    if summary is None:
        try:
            if (run_dir / "checkpoint.pt").exists():
                reference_models.resume(run_dir, progress=False)
            else:
                config = reference_models.TrainConfig(
                    model=model, data=data, seed=seed, steps=steps
                )
                reference_models.train(config, run_dir, progress=False)
        except Exception as error:  # one broken run must not stop the others
            return {"model": model, "data": data, "seed": seed, "status": f"error: {error!r}"}
        summary = RunDir.open(run_dir).read_summary()
    return _row(model, data, seed, steps, summary)


def _finished_summary(run_dir: Path) -> dict | None:
    if not (run_dir / "config.json").exists():
        return None
    summary = RunDir.open(run_dir).read_summary()
    return summary if summary and summary.get("status") in ("finished", "diverged") else None


def _row(model: str, data: str, seed: int, steps: int, summary: dict) -> dict:
    metrics = summary.get("metrics", {})
    row = {
        "model": model,
        "data": data,
        "seed": seed,
        "steps": summary.get("step"),
        "status": summary["status"],
    }
    row.update({name: metrics.get(name) for name in METRICS})
    row["seconds_per_step"] = summary["elapsed_s"] / max(summary.get("step") or steps, 1)
    return row


def time_steps(models: list[str], data: str, steps: int, rounds: int = 3) -> dict[str, float]:
    """Median seconds per training step of each model, timed in turns within this process."""
    times: dict[str, list[float]] = {model: [] for model in models}
    trainers = {
        m: reference_models.build_trainer(reference_models.TrainConfig(model=m, data=data))
        for m in models
    }
    for trainer in trainers.values():
        for _ in range(3):  # warm-up
            trainer.train_step()
    for _ in range(rounds):
        for model, trainer in trainers.items():
            start = time.perf_counter()
            for _ in range(steps):
                trainer.train_step()
            times[model].append((time.perf_counter() - start) / steps)
    return {model: statistics.median(values) for model, values in times.items()}


def summarise(
    rows: pd.DataFrame, timings: dict[str, dict[str, float]] | None = None
) -> pd.DataFrame:
    """Mean and std over seeds of each metric, per model and dataset.

    ``timings`` (data -> model -> seconds per step, from ``time_steps``) gives the
    fair cost column; the whole runs' times depend on what else the machine ran then.
    """
    grouped = rows.groupby(["data", "model"], sort=False)
    table = grouped[list(METRICS)].agg(["mean", "std"])
    table.columns = [f"{metric}_{stat}" for metric, stat in table.columns]
    table.insert(0, "runs", grouped.size())
    table["seeds"] = grouped["seed"].apply(lambda s: ",".join(str(v) for v in sorted(s)))
    mean_time = grouped["seconds_per_step"].mean()
    table["train_time_per_step_vs_vanilla"] = [
        mean_time[(data, model)] / mean_time[(data, "vanilla")]
        if (data, "vanilla") in mean_time
        else float("nan")
        for data, model in table.index
    ]
    timings = timings or {}
    table["step_time_vs_vanilla"] = [
        timings[data][model] / timings[data]["vanilla"]
        if model in timings.get(data, {}) and "vanilla" in timings.get(data, {})
        else float("nan")
        for data, model in table.index
    ]
    table["published_modes"] = [PUBLISHED_MODES.get((model, data)) for data, model in table.index]
    return table


def format_table(table: pd.DataFrame) -> str:
    """Markdown table. Step time: interleaved timing in one process (the fair ratio); run
    time: whole runs' seconds per step, evaluations included, under whatever load they met."""
    lines = [
        "| data | model | runs | modes captured | high-quality frac | mode_kl "
        "| step time vs vanilla | run time vs vanilla | VEEGAN modes |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for (data, model), r in table.iterrows():
        published = "" if pd.isna(r["published_modes"]) else f"{r['published_modes']:g}"
        step_time = r.get("step_time_vs_vanilla", float("nan"))
        lines.append(
            f"| {data} | {model} | {r['runs']} | {_mean_std(r, keys.MODES_CAPTURED, '.1f')} | "
            f"{_mean_std(r, keys.HIGH_QUALITY_FRAC, '.3f')} | {_mean_std(r, keys.MODE_KL, '.3f')} | "
            f"{'' if pd.isna(step_time) else f'{step_time:.2f}'} | "
            f"{r['train_time_per_step_vs_vanilla']:.2f} | {published} |"
        )
    return "\n".join(lines)


def _mean_std(row: pd.Series, metric: str, spec: str) -> str:
    mean, std = row[f"{metric}_mean"], row[f"{metric}_std"]
    return f"{mean:{spec}} ± {std:{spec}}" if not pd.isna(std) else f"{mean:{spec}}"


def collect_existing(args: argparse.Namespace) -> list[dict]:
    rows = []
    for model in args.models:
        for data in args.data:
            for seed in args.seeds:
                summary = _finished_summary(args.out / run_name(model, data, seed, args.steps))
                if summary is not None:
                    rows.append(_row(model, data, seed, args.steps, summary))
    return rows


def run_all(args: argparse.Namespace) -> list[dict]:
    tasks = [
        (m, d, s, args.steps, str(args.out))
        for d in args.data
        for s in args.seeds
        for m in args.models
    ]
    rows = []
    context = multiprocessing.get_context("spawn")
    with context.Pool(args.jobs, maxtasksperchild=1) as pool:
        for row in pool.imap_unordered(train_one, tasks):
            rows.append(row)
            print(json.dumps(row), flush=True)
            atomic_write_text(
                args.out / "bench_coverage_runs.csv", pd.DataFrame(rows).to_csv(index=False)
            )
    return rows


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    torch.set_num_threads(1)
    args.out.mkdir(parents=True, exist_ok=True)
    print(
        f"models={args.models} data={args.data} seeds={args.seeds} steps={args.steps} out={args.out}",
        flush=True,
    )
    timings = {}
    if args.timing_steps > 0 and "vanilla" in args.models:
        for data in args.data:
            timings[data] = seconds = time_steps(args.models, data, args.timing_steps)
            for model, value in seconds.items():
                print(
                    f"timing {data} {model}: {value * 1e3:.1f} ms/step, "
                    f"{value / seconds['vanilla']:.2f}x vanilla",
                    flush=True,
                )
    rows = collect_existing(args) if args.report_only else run_all(args)
    rows = [row for row in rows if row["status"] in ("finished", "diverged")]
    if not rows:
        print("no finished runs yet", flush=True)
        return
    table = summarise(pd.DataFrame(rows), timings)
    atomic_write_text(args.out / "bench_coverage_table.md", format_table(table) + "\n")
    print(format_table(table), flush=True)


if __name__ == "__main__":
    main()
