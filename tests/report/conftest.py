"""Run folders with chosen final metrics for the reproduction report's tests."""

from __future__ import annotations

import pytest

from collapsekit.runs import RunDir

RING = "ring8:radius=1,std=0.01"
GRID = "grid25:spacing=2,std=0.05"


def fake_run(root, protocol, model, options, data, seed, modes, steps=50_000, status="finished",
             high_quality=0.9, counts=None):
    """A run folder written by the run store: config, a three-row history, a summary.

    ``protocol=None`` leaves the key out, as runs made before protocols existed do.
    ``counts`` are the final high-quality samples per mode (default: 10 in each of
    the first ``modes``).
    """
    total = 25 if data.startswith("grid25") else 8
    counts = counts if counts is not None else [10] * modes + [0] * (total - modes)
    config = {"model": model, "data": data, "seed": seed, "steps": steps, "options": options}
    if protocol is not None:
        config["protocol"] = protocol
    values = "-".join(map(str, options.values()))
    name = f"{protocol or 'default'}-{model}-{values}-{data.partition(':')[0]}-{seed}"
    run = RunDir.create(root / name, config)
    final = {
        "modes_captured": modes,
        "modes_total": total,
        "high_quality_frac": high_quality,
        "mode_counts": counts,
        "mode_kl": 0.0,
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


def fake_runs(root, protocol, model, options, data, modes_by_seed, **kwargs):
    """One finished run per seed with the given final modes captured."""
    for seed, modes in enumerate(modes_by_seed):
        fake_run(root, protocol, model, options, data, seed, modes, **kwargs)


@pytest.fixture(scope="session")
def make_runs():
    """``make_runs(root, protocol, model, options, data, modes_by_seed, **kwargs)``."""
    return fake_runs


@pytest.fixture(scope="session")
def make_run():
    """``make_run(root, protocol, model, options, data, seed, modes, **kwargs)``."""
    return fake_run
