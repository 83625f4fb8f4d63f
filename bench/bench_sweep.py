"""Sweep throughput: a grid of 8 short runs with 2 workers against 1 worker, in one process.

Each measurement is a whole ``run_sweep`` into a fresh folder: starting the
spawned workers, training, evaluating, writing the run folders and shutting the
pool down. Three settings, alternated round by round so that a change in the
machine's load hits all of them:

- 2 workers with ``cores // 2`` torch threads each (the sweep's default for 2 workers);
- 1 worker with the same ``cores // 2`` threads: the ratio to it is the gain of
  running whole runs side by side, everything else equal;
- 1 worker with ``cores`` threads (the sweep's default for ``--workers 1``): the
  ratio to it is what a user sees between ``--workers 1`` and ``--workers 2``.

The load average is printed with the numbers: on a shared machine a ratio is
only as good as the quiet it was measured in.

    python bench/bench_sweep.py [--runs 8] [--steps 300] [--repeats 1]
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import statistics
import tempfile
import time

from collapsekit.sweep import SweepGrid, run_sweep, usable_cores

TWO, ONE, ONE_ALL_CORES = "2 workers", "1 worker, same threads", "1 worker, all cores"


def timed_sweep(grid: SweepGrid, workers: int, threads: int) -> float:
    """Seconds for the whole grid with ``workers`` processes, into a fresh folder."""
    with tempfile.TemporaryDirectory(prefix="bench-sweep-") as out:
        started = time.perf_counter()
        outcomes = run_sweep(grid, out, workers=workers, threads_per_run=threads)
        seconds = time.perf_counter() - started
    failed = [o for o in outcomes if o.status != "finished"]
    if failed:
        raise SystemExit(f"{failed[0].name}: {failed[0].status} {failed[0].error}")
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=8, help="runs in the grid (seeds 0..runs-1)")
    parser.add_argument("--steps", type=int, default=300, help="training steps per run")
    parser.add_argument("--repeats", type=int, default=3, help="alternating rounds of the settings")
    parser.add_argument(
        "--all-cores", action="store_true", help="also 1 worker with every core's threads"
    )
    parser.add_argument("--data", default="ring8", help="dataset spec")
    args = parser.parse_args()

    settings = {
        "steps": args.steps,
        "eval_every": args.steps,
        "device": "cpu",
    }  # defaults otherwise
    grid = SweepGrid(["vanilla"], [args.data], list(range(args.runs)), settings=settings)
    cores = usable_cores()
    choices = {TWO: (2, max(1, cores // 2)), ONE: (1, max(1, cores // 2))}
    if args.all_cores:
        choices[ONE_ALL_CORES] = (1, cores)
    print(
        f"{args.runs} runs of vanilla on {args.data}, {args.steps} steps each (batch 512, 2,500 eval samples)"
    )
    print(f"usable cores: {cores}; load average before: {os.getloadavg()[0]:.1f}")
    seconds = measure(grid, choices, args.repeats)
    print(f"load average after: {os.getloadavg()[0]:.1f}")
    median = {label: statistics.median(values) for label, values in seconds.items()}
    for label in choices:
        print(f"throughput {label:<24} {args.runs / median[label]:.3f} runs/s")
    rounds = ", ".join(
        f"{one / two:.2f}x" for one, two in zip(seconds[ONE], seconds[TWO], strict=True)
    )
    print(
        f"scaling 2 workers / 1 worker (same threads per run): {median[ONE] / median[TWO]:.2f}x (rounds: {rounds})"
    )
    if args.all_cores:
        print(
            f"scaling 2 workers / 1 worker (each sweep default):   {median[ONE_ALL_CORES] / median[TWO]:.2f}x"
        )
    print("target: >= 1.8x on 2 idle cores")


def measure(grid: SweepGrid, choices: dict, repeats: int) -> dict[str, list[float]]:
    """Seconds per setting and round; rounds alternate the order of the settings.

    An untimed one-run sweep comes first: it starts the fork server the workers
    are forked from (torch imported once per process, about 4 s), a cost a
    sweep command pays once however many runs it has.
    """
    warm_up = dataclasses.replace(grid, seeds=grid.seeds[:1])
    started = time.perf_counter()
    timed_sweep(warm_up, 1, 1)
    print(f"  warm-up (starts the worker fork server, untimed): {time.perf_counter() - started:.1f} s")
    seconds: dict[str, list[float]] = {label: [] for label in choices}
    for round_index in range(repeats):
        order = list(choices) if round_index % 2 == 0 else list(reversed(choices))
        for label in order:
            workers, threads = choices[label]
            seconds[label].append(timed_sweep(grid, workers, threads))
            print(
                f"  {label:<24} ({workers} x {threads} thread(s)): {seconds[label][-1]:7.1f} s",
                flush=True,
            )
    return seconds


if __name__ == "__main__":
    main()
