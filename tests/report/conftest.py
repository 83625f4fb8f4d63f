"""Run folders with chosen final metrics for the reproduction report's tests."""

from __future__ import annotations

import pytest

from collapsekit.runs import RunDir

RING = "ring8:radius=1,std=0.01"
GRID = "grid25:spacing=2,std=0.05"


def fake_run(root, protocol, model, options, data, seed, modes, steps=50_000, status="finished",
             high_quality=0.9, counts=None, d_width=None, kl=0.0):
    """A run folder written by the run store: config, a three-row history, a summary.

    ``protocol=None`` leaves the key out, as runs made before protocols existed do.
    ``counts`` are the final high-quality samples per mode (default: 10 in each of
    the first ``modes``). ``d_width`` is recorded in the config as the metz nets' runs
    record it; ``kl`` is the final ``mode_kl``. Stacked datasets have 1,000 modes.
    """
    total = 1000 if data.startswith("stacked") else 25 if data.startswith("grid25") else 8
    counts = counts if counts is not None else [10] * modes + [0] * (total - modes)
    config = {"model": model, "data": data, "seed": seed, "steps": steps, "options": options}
    if protocol is not None:
        config["protocol"] = protocol
    if d_width is not None:
        config["d_width"] = d_width
    values = "-".join(map(str, [*options.values(), *filter(None, [d_width])]))
    name = f"{protocol or 'default'}-{model}-{values}-{data.partition(':')[0]}-{seed}"
    run = RunDir.create(root / name, config)
    final = {
        "modes_captured": modes,
        "modes_total": total,
        "high_quality_frac": high_quality,
        "mode_counts": counts,
        "mode_kl": kl,
        "num_samples": 2500,
    }
    run.write_history(
        [
            {"step": 0, "modes_captured": 1, "modes_total": total},
            {"step": steps // 2, "modes_captured": max(1, modes - 1), "modes_total": total},
            {"step": steps, **final},
        ]
    )
    if status == "finished":
        run.write_summary({"status": "finished", "step": steps, "metrics": final, "findings": []})
    return run


def fake_runs(root, protocol, model, options, data, modes_by_seed, kl_by_seed=None, **kwargs):
    """One finished run per seed with the given final modes captured (and ``mode_kl``)."""
    kl_by_seed = kl_by_seed or [0.0] * len(modes_by_seed)
    for seed, (modes, kl) in enumerate(zip(modes_by_seed, kl_by_seed, strict=True)):
        fake_run(root, protocol, model, options, data, seed, modes, kl=kl, **kwargs)


@pytest.fixture(scope="session")
def make_runs():
    """``make_runs(root, protocol, model, options, data, modes_by_seed, **kwargs)``."""
    return fake_runs


@pytest.fixture(scope="session")
def make_run():
    """``make_run(root, protocol, model, options, data, seed, modes, **kwargs)``."""
    return fake_run
