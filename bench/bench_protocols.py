"""Time per training step of every protocol's trainers, as ratios to the default vanilla GAN.

Each trainer is built once, warmed up, then timed for a few short rounds,
interleaved with the others in this one process (one torch thread unless
``--threads``), so a busy machine slows all of them alike and the ratios stay
fair. The baseline is the default protocol's vanilla GAN on the same data,
measured in the same rounds. Also states the cost of minibatch discrimination
with the authors' B = 100 kernels on 2-D data, against our B = 5.

Usage:
    .venv/bin/python bench/bench_protocols.py                 # ring8, 200 steps x 3 rounds
    .venv/bin/python bench/bench_protocols.py --data grid25 --steps 100 --rounds 5
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout

import reference_models  # noqa: E402

# (label, protocol, model, options): the rows of the table; the first is the baseline.
TRAINERS = (
    ("default vanilla", "default", "vanilla", {}),
    ("default unrolled K=5", "default", "unrolled", {}),
    ("default minibatch B=5", "default", "minibatch", {}),
    ("default minibatch B=100", "default", "minibatch", {"kernels": 100}),
    ("default pacgan m=2", "default", "pacgan", {"pack": 2}),
    ("pacgan vanilla", "pacgan", "vanilla", {}),
    ("pacgan pacgan m=2", "pacgan", "pacgan", {"pack": 2}),
    ("pacgan pacgan m=3", "pacgan", "pacgan", {"pack": 3}),
    ("pacgan pacgan m=4", "pacgan", "pacgan", {"pack": 4}),
    ("veegan vanilla", "veegan", "vanilla", {}),
    ("veegan unrolled K=5", "veegan", "unrolled", {}),
)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", default="ring8", help="ring8 or grid25")
    parser.add_argument("--steps", type=int, default=200, help="steps per timing round")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds")
    parser.add_argument("--threads", type=int, default=1, help="torch threads")
    return parser.parse_args(argv)


def build(protocol: str, model: str, options: dict, data: str):
    config = reference_models.TrainConfig(
        model=model, data=data, protocol=protocol, options=dict(options), device="cpu"
    )
    return reference_models.build_trainer(config)


def seconds_per_step(trainer, steps: int) -> float:
    start = time.perf_counter()
    for _ in range(steps):
        trainer.train_step()
    return (time.perf_counter() - start) / steps


def measure(args: argparse.Namespace) -> tuple[dict[str, float], dict[str, int]]:
    """Median seconds per step of every trainer over interleaved rounds, and its batch size."""
    trainers = {label: build(p, m, o, args.data) for label, p, m, o in TRAINERS}
    for trainer in trainers.values():
        seconds_per_step(trainer, 5)  # warm-up: first calls allocate and compile kernels
    times: dict[str, list[float]] = {label: [] for label in trainers}
    for _ in range(args.rounds):
        for label, trainer in trainers.items():
            times[label].append(seconds_per_step(trainer, args.steps))
    medians = {label: statistics.median(values) for label, values in times.items()}
    return medians, {label: trainer.config.batch_size for label, trainer in trainers.items()}


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    medians, batches = measure(args)
    baseline = medians[TRAINERS[0][0]]
    print(f"data {args.data}, {args.steps} steps x {args.rounds} rounds, {args.threads} thread(s)")
    print("| trainer | batch | ms per step | vs default vanilla | 400k steps (h) |")
    print("|---|---|---|---|---|")
    for label, *_ in TRAINERS:
        batch = batches[label]
        seconds = medians[label]
        hours = seconds * 400_000 / 3600
        print(f"| {label} | {batch} | {seconds * 1e3:.1f} | {seconds / baseline:.2f} | {hours:.1f} |")


if __name__ == "__main__":
    main()
