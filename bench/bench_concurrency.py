"""Steps/s of `collapsekit run` alone, two side by side, and beside a busy torch job, as ratios to alone.

A default vanilla ring8 run (shortened to --steps) is timed three ways: alone;
two started together; one beside a small torch training loop that keeps every
core busy with torch's own thread count (a notebook, another tool). Each run's
steps/s comes from its summary (training and evaluation time, without Python's
start-up) and is printed as a ratio to the run alone, measured in the same
invocation. Goal: at least 0.8x of alone in both shared cases.

The child processes run without OMP_NUM_THREADS / MKL_NUM_THREADS, so each
chooses its own threads as a user's would. The same three cases are then timed
with ``--threads <cores>``, torch's own default (one thread per core), which is
what every run took before collapsekit chose: the ratio that choice avoids.

    python bench/bench_concurrency.py [--steps 2000] [--default-steps 300] [--skip-default]
                                      [--busy-threads N]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

# A small torch job with torch's default threads: an MLP trained on random batches, forever.
BUSY_JOB = """
import torch
net = torch.nn.Sequential(torch.nn.Linear(256, 256), torch.nn.ReLU(), torch.nn.Linear(256, 256))
optimizer = torch.optim.Adam(net.parameters())
batch = torch.randn(512, 256)
while True:
    loss = net(batch).square().mean()
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
"""
THREAD_VARIABLES = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "TORCH_NUM_THREADS")


def child_environment() -> dict[str, str]:
    """This environment without thread settings: children choose as a user's processes would."""
    return {key: value for key, value in os.environ.items() if key not in THREAD_VARIABLES}


def start_run(out: Path, name: str, steps: int, threads: int | None) -> subprocess.Popen:
    command = [sys.executable, "-m", "collapsekit", "run", "--model", "vanilla", "--data", "ring8"]
    command += ["--steps", str(steps), "--eval-every", "1000", "--device", "cpu", "--no-progress"]
    command += ["--out", str(out), "--name", name]
    command += ["--threads", str(threads)] if threads else []
    return subprocess.Popen(command, env=child_environment(), stdout=subprocess.DEVNULL)


def steps_per_second(process: subprocess.Popen, run_dir: Path, steps: int) -> float:
    if process.wait() != 0:
        raise SystemExit(f"the run in {run_dir} failed (exit code {process.returncode})")
    summary = json.loads((run_dir / "summary.json").read_text())
    return steps / summary["elapsed_s"]


def alone(out: Path, steps: int, threads: int | None) -> list[float]:
    process = start_run(out, "alone", steps, threads)
    return [steps_per_second(process, out / "alone", steps)]


def side_by_side(out: Path, steps: int, threads: int | None) -> list[float]:
    processes = [start_run(out, f"pair{index}", steps, threads) for index in (0, 1)]
    return [steps_per_second(p, out / f"pair{i}", steps) for i, p in enumerate(processes)]


def beside_busy_job(out: Path, steps: int, threads: int | None, busy_threads: int | None) -> list[float]:
    environment = child_environment()
    if busy_threads:
        environment["OMP_NUM_THREADS"] = str(busy_threads)
    busy = subprocess.Popen([sys.executable, "-c", BUSY_JOB], env=environment)
    try:
        time.sleep(2.0)  # the job is importing torch and then training
        process = start_run(out, "busy", steps, threads)
        return [steps_per_second(process, out / "busy", steps)]
    finally:
        busy.kill()
        busy.wait()


def measure(
    label: str, steps: int, threads: int | None, busy_threads: int | None
) -> list[tuple[str, str, float, float]]:
    """(setting, case, steps/s, ratio to alone) for the three cases."""
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-concurrency-") as folder:
        solo = alone(Path(folder), steps, threads)[0]
        rows.append((label, "alone", solo, 1.0))
        for index, rate in enumerate(side_by_side(Path(folder), steps, threads)):
            rows.append((label, f"side by side, run {index + 1}", rate, rate / solo))
        rate = beside_busy_job(Path(folder), steps, threads, busy_threads)[0]
        rows.append((label, "beside a busy torch job", rate, rate / solo))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--steps", type=int, default=2000, help="steps per run, automatic threads")
    parser.add_argument("--default-steps", type=int, default=300, help="steps per run, --threads <cores>")
    parser.add_argument("--skip-default", action="store_true", help="time the automatic choice only")
    parser.add_argument(
        "--busy-threads", type=int, default=None,
        help="threads of the busy job  [default: torch's own, one per core]",
    )  # fmt: skip
    args = parser.parse_args()
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    print(f"cores={cores} load average before: {' '.join(f'{v:.2f}' for v in os.getloadavg())}")
    busy = args.busy_threads or cores
    print(f"busy job: a 256-wide MLP trained in a loop with {busy} torch thread(s)")
    rows = measure("automatic threads", args.steps, None, args.busy_threads)
    if not args.skip_default:
        rows += measure(f"--threads {cores} (torch's default)", args.default_steps, cores, args.busy_threads)
    print(f"{'setting':<32} {'case':<26} {'steps/s':>8} {'x alone':>8}")
    for setting, case, rate, ratio in rows:
        print(f"{setting:<32} {case:<26} {rate:8.1f} {ratio:8.2f}")
    shared = [ratio for setting, case, _, ratio in rows if setting == "automatic threads" and case != "alone"]
    print(f"goal: every shared case >= 0.8x alone (automatic threads): {'met' if min(shared) >= 0.8 else 'NOT met'}")
    print(f"load average after: {' '.join(f'{v:.2f}' for v in os.getloadavg())}")


if __name__ == "__main__":
    main()
