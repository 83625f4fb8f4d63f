"""Benchmark the k-NN engine: precision, recall, density and coverage against prdc and torch-fidelity.

Every method runs in its own fresh process on the same features (two independent
N(0, I) sets), which measures its time and its peak resident memory (VmHWM,
reset after the features are loaded). Ratios compare numbers from this one run:

1. 64-d, 10,000 real x 10,000 generated: collapsekit computes all four metrics;
   prdc 0.2 computes all four; torch-fidelity 0.4 computes precision and recall.
   Prints time ratios, the peak-memory ratio to prdc, and checks the values agree.
2. 2,048-d: collapsekit's four metrics against the three N x N float32 products
   they need (real-real, fake-fake, real-fake) timed at the machine's matmul rate.

All methods get the same number of threads (``--threads``, default 1: on a
shared, oversubscribed machine multi-threaded timings measure the other tenants).
prdc additionally starts its own 8 joblib workers, as it always does.

Usage: ``python bench/bench_knn.py [--size 10000] [--threads 1] [--skip-high-dim]``
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from collapsekit.atomic import atomic_write_bytes

METHODS = ("collapsekit", "prdc", "torch-fidelity", "products")


def make_features(size: int, width: int, path: Path, seed: int = 0) -> None:
    generator = np.random.default_rng(seed)
    real = generator.standard_normal((size, width), dtype=np.float32)
    fake = generator.standard_normal((size, width), dtype=np.float32)
    buffer = io.BytesIO()
    np.savez(buffer, real=real, fake=fake)
    atomic_write_bytes(path, buffer.getvalue())


def _resident_kib(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def run_worker(method: str, path: Path, threads: int) -> dict:
    """Run one method in this process; return its seconds, peak memory above baseline and values."""
    import torch

    torch.set_num_threads(threads)
    with np.load(path) as archive:
        real, fake = archive["real"], archive["fake"]
    real_tensor, fake_tensor = torch.from_numpy(real), torch.from_numpy(fake)
    compute = _method(method, real, fake, real_tensor, fake_tensor)
    Path("/proc/self/clear_refs").write_text("5")  # reset the peak-RSS mark (Linux)
    baseline = _resident_kib("VmRSS")
    start = time.perf_counter()
    values = compute()
    seconds = time.perf_counter() - start
    peak = _resident_kib("VmHWM") - baseline
    return {
        "seconds": seconds,
        "peak_kib": peak,
        "values": {k: float(v) for k, v in values.items()},
    }


def _method(method: str, real, fake, real_tensor, fake_tensor):
    import torch

    if method == "collapsekit":
        from collapsekit.metrics.manifold import manifold_metrics

        return lambda: manifold_metrics(real_tensor, fake_tensor, device="cpu")
    if method == "prdc":
        from prdc import compute_prdc

        def prdc_values():
            with contextlib.redirect_stdout(io.StringIO()):  # prdc prints
                return compute_prdc(real, fake, nearest_k=5)

        return prdc_values
    if method == "torch-fidelity":
        from torch_fidelity.metric_prc import prc_features_to_metric

        return lambda: prc_features_to_metric(fake_tensor, real_tensor, verbose=False)
    if method == "products":

        def products():
            for first, second in (
                (real_tensor, real_tensor),
                (fake_tensor, fake_tensor),
                (real_tensor, fake_tensor),
            ):
                torch.mm(first, second.T)
            return {}

        return products
    raise ValueError(f"unknown method {method!r}")


def measure(method: str, path: Path, threads: int) -> dict:
    command = [
        sys.executable,
        __file__,
        "--worker",
        method,
        "--features",
        str(path),
        "--threads",
        str(threads),
    ]
    limits = {
        name: str(threads)
        for name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")
    }
    completed = subprocess.run(
        command, capture_output=True, text=True, check=True, env={**os.environ, **limits}
    )
    return json.loads(completed.stdout.strip().splitlines()[-1])


def low_dimensional(size: int, threads: int, folder: Path) -> None:
    path = folder / "features-64.npz"
    make_features(size, 64, path)
    ours, prdc, fidelity = (
        measure(m, path, threads) for m in ("collapsekit", "prdc", "torch-fidelity")
    )
    print(f"== {size:,} real x {size:,} generated, 64-d, {threads} thread(s) ==")
    for name, result in (
        ("collapsekit (P, R, D, C)", ours),
        ("prdc 0.2 (P, R, D, C)", prdc),
        ("torch-fidelity 0.4 (P, R)", fidelity),
    ):
        print(
            f"  {name:<28} {result['seconds']:8.2f} s   peak {result['peak_kib'] / 1024:8.1f} MiB"
        )
    print(f"  speed-up vs prdc:             {prdc['seconds'] / ours['seconds']:.2f}x (target >= 5)")
    print(
        f"  speed-up vs torch-fidelity:   {fidelity['seconds'] / ours['seconds']:.2f}x (target >= 3)"
    )
    print(
        f"  peak memory / prdc's:         {ours['peak_kib'] / prdc['peak_kib']:.3f} (target <= 0.25)"
    )
    ours_values = ours["values"]
    density_gap = max(abs(ours_values[k] - prdc["values"][k]) for k in ("density", "coverage"))
    fidelity_gap = max(abs(ours_values[k] - fidelity["values"][k]) for k in ("precision", "recall"))
    print(f"  |density, coverage - prdc|:   {density_gap:.2e}")
    print(
        f"  |precision, recall - t-f|:    {fidelity_gap:.2e} (torch-fidelity reports float32 means)"
    )


def high_dimensional(size: int, width: int, threads: int, folder: Path) -> None:
    path = folder / f"features-{width}.npz"
    make_features(size, width, path)
    products = measure("products", path, threads)
    ours = measure("collapsekit", path, threads)
    rate = 3 * 2 * size * size * width / products["seconds"] / 1e9
    print(f"== {size:,} x {size:,}, {width}-d, {threads} thread(s) ==")
    print(f"  three float32 N x N products: {products['seconds']:8.2f} s  ({rate:.1f} GFLOP/s)")
    print(f"  collapsekit (P, R, D, C):     {ours['seconds']:8.2f} s")
    print(
        f"  time / three products:        {ours['seconds'] / products['seconds']:.2f} (target <= 1.5)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=10_000, help="real and generated samples each")
    parser.add_argument("--high-dim", type=int, default=2048)
    parser.add_argument(
        "--threads",
        type=int,
        default=1,
        help="threads of every method (torch, BLAS, OpenMP); default 1",
    )
    parser.add_argument("--skip-high-dim", action="store_true")
    parser.add_argument("--worker", choices=METHODS, help=argparse.SUPPRESS)
    parser.add_argument("--features", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(run_worker(args.worker, args.features, args.threads)))
        return
    with tempfile.TemporaryDirectory() as folder:
        low_dimensional(args.size, args.threads, Path(folder))
        if not args.skip_high_dim:
            high_dimensional(args.size, args.high_dim, args.threads, Path(folder))


if __name__ == "__main__":
    main()
