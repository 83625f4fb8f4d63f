"""``collapsekit sweep``: one line per run, failures reported with exit code 1, reruns skip."""

from __future__ import annotations

import json
import sys

import pytest
from click.testing import CliRunner

from collapsekit.cli import main
from collapsekit.sweep import SweepGrid, lock_path, plan_sweep, run_task

TINY = [
    "--steps",
    "6",
    "--eval-every",
    "3",
    "--eval-samples",
    "200",
    "--batch-size",
    "64",
    "--device",
    "cpu",
]
BAD = "CollapsekitError: dataset 'ring8:std=-1': std must be positive, got -1.0"


def invoke(*args):
    return CliRunner().invoke(main, ["sweep", *map(str, args)], catch_exceptions=False)


def finished_run(out, seed: int) -> None:
    """A finished run in ``out``, made in this process (no worker pool to start)."""
    settings = dict(steps=6, eval_every=3, eval_samples=200, batch_size=64, device="cpu")
    (task,) = plan_sweep(SweepGrid(["vanilla"], ["ring8"], [seed], settings=settings), out)
    assert run_task(task).status == "finished"


def test_sweep_trains_reports_a_failure_and_skips_on_rerun(tmp_path):
    result = invoke(
        "--models", "vanilla", "--data", "ring8,ring8:std=-1", "--seeds", "0", *TINY,
        "--workers", "1", "--out", tmp_path, "--no-progress",
    )  # fmt: skip
    assert result.exit_code == 1, result.output
    lines = result.output.splitlines()
    assert (
        "1 to train, 0 to resume, 0 done earlier" in lines[0]
        and "1 model x 2 datasets x 1 seed" in lines[0]
    )
    assert lines[1] == f"[1/2] FAILED    vanilla-ring8_std=-1-seed0  {BAD}"
    assert lines[2].startswith("[2/2] finished  vanilla-ring8-seed0  modes ") and " hq " in lines[2]
    assert "2 runs: 1 finished, 1 failed" in result.output
    assert f"  vanilla-ring8_std=-1-seed0: {BAD}" in result.output
    config = json.loads((tmp_path / "vanilla-ring8-seed0" / "config.json").read_text())
    assert (
        config["steps"],
        config["eval_every"],
        config["eval_samples"],
        config["batch_size"],
    ) == (6, 3, 200, 64)
    summary = json.loads((tmp_path / "vanilla-ring8-seed0" / "summary.json").read_text())
    assert (summary["status"], summary["step"]) == ("finished", 6)

    again = invoke(
        "--models",
        "vanilla",
        "--data",
        "ring8",
        "--seeds",
        "0",
        *TINY,
        "--out",
        tmp_path,
        "--progress",
    )
    assert again.exit_code == 0, again.output
    assert "0 to train, 0 to resume, 1 done earlier" in again.output
    assert "[1/1] finished  vanilla-ring8-seed0  (done earlier)  modes " in again.output
    assert json.loads((tmp_path / "vanilla-ring8-seed0" / "summary.json").read_text()) == summary


def test_other_settings_need_force(tmp_path):
    finished_run(tmp_path, seed=2)
    result = invoke(
        "--data", "ring8", "--seeds", "2", *TINY[:-2], "--steps", "12", "--out", tmp_path
    )
    assert result.exit_code == 2
    assert "holds a run with other settings (steps 6 -> 12); rerun it with --force" in result.output


def test_grid_file_with_flags_overriding_it(tmp_path):
    grid = tmp_path / "sweep.toml"
    grid.write_text('models = ["vanilla"]\ndata = ["ring8:std=-1"]\nseeds = "0-3"\nsteps = 6\n')
    result = invoke("--grid", grid, "--seeds", "5,7", "--out", tmp_path / "runs", "--no-progress")
    assert result.exit_code == 1, result.output
    assert "Sweep of 2 runs (1 model x 1 dataset x 2 seeds)" in result.output
    assert f"FAILED    vanilla-ring8_std=-1-seed5  {BAD}" in result.output
    assert f"FAILED    vanilla-ring8_std=-1-seed7  {BAD}" in result.output
    assert "2 runs: 2 failed" in result.output


def test_model_option_flags_must_reach_a_model(tmp_path):
    result = invoke("--models", "vanilla", "--unroll-steps", "3", "--out", tmp_path)
    assert result.exit_code == 2
    assert "no model in this sweep takes option 'unroll_steps'" in result.output


def test_ray_backend_without_ray_says_how_to_install_it(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "ray", None)  # as if Ray were not installed
    result = invoke("--backend", "ray", "--out", tmp_path)
    assert result.exit_code == 2
    assert (
        "Error: the ray backend needs Ray, which is not installed; install it with: pip install 'collapsekit[ray]'"
        in result.output
    )


def test_bad_flags_are_one_line_errors(tmp_path):
    seeds = invoke("--seeds", "3-1", "--out", tmp_path)
    assert (
        seeds.exit_code == 2
        and "Error: seed range '3-1' goes down; write it low to high, e.g. 1-3" in seeds.output
    )
    address = invoke("--address", "head:6379", "--out", tmp_path)
    assert (
        address.exit_code == 2
        and "--address is for the ray backend; add --backend ray" in address.output
    )


def test_help_documents_the_flags():
    result = invoke("--help")
    for flag in ("--models", "--data", "--seeds", "--grid", "--out", "--workers", "--backend", "--address",
                 "--force", "--steps", "--eval-every", "--option", "--unroll-steps"):  # fmt: skip
        assert flag in result.output


def test_dry_run_shows_each_runs_plan_and_trains_nothing(tmp_path):
    finished_run(tmp_path, seed=0)
    # seed 1: a run that has a checkpoint but no summary (killed half way)
    finished_run(tmp_path, seed=1)
    (tmp_path / "vanilla-ring8-seed1" / "summary.json").unlink()
    # seed 2: killed before its first checkpoint
    finished_run(tmp_path, seed=2)
    for name in ("summary.json", "checkpoint.pt"):
        (tmp_path / "vanilla-ring8-seed2" / name).unlink()
    before = sorted(p.name for p in tmp_path.rglob("*"))

    result = invoke("--models", "vanilla", "--data", "ring8,grid25:std=-1", "--seeds", "0-3",
                    "--out", tmp_path, "--dry-run", *TINY)
    assert result.exit_code == 0, result.output
    lines = {line.split()[1]: line for line in result.output.splitlines() if line[:1].islower()}
    assert lines["vanilla-ring8-seed0"].startswith("skip ") and "done: finished" in lines[
        "vanilla-ring8-seed0"]
    assert "modes " in lines["vanilla-ring8-seed0"]
    assert lines["vanilla-ring8-seed1"].startswith("resume ")
    assert "measured up to step 6 of 6" in lines["vanilla-ring8-seed1"]
    assert lines["vanilla-ring8-seed2"].endswith("stopped before its first checkpoint: starts again")
    assert lines["vanilla-ring8-seed3"].endswith("new")
    bad = next(line for name, line in lines.items() if name.startswith("vanilla-grid25"))
    assert bad.startswith("invalid ") and "std must be positive" in bad
    assert sorted(p.name for p in tmp_path.rglob("*")) == before  # nothing written

    # a run another process is training right now is flagged (runs are locked where fcntl is)
    fcntl = pytest.importorskip("fcntl")

    with open(lock_path(tmp_path / "vanilla-ring8-seed3"), "a+b") as holder:
        fcntl.flock(holder, fcntl.LOCK_EX | fcntl.LOCK_NB)
        busy = invoke("--models", "vanilla", "--data", "ring8", "--seeds", "3", "--out", tmp_path,
                      "--dry-run", *TINY)
    assert "new (another process is training it now" in busy.output


def test_a_protocol_sweep_skips_its_finished_runs_on_rerun(tmp_path):
    """Runs store the protocol's resolved dataset spec; a rerun of the same sweep matches it."""
    settings = dict(protocol="pacgan", steps=4, eval_every=2, eval_samples=200, batch_size=16)
    grid = SweepGrid(["pacgan"], ["ring8"], [0], settings={**settings, "device": "cpu"})
    (task,) = plan_sweep(grid, tmp_path)
    assert run_task(task).status == "finished"
    config = json.loads((tmp_path / "pacgan-ring8-seed0" / "config.json").read_text())
    assert (config["data"], config["options"]) == ("ring8:radius=1,std=0.01", {"pack": 2})
    (again,) = plan_sweep(grid, tmp_path)
    assert again.action == "skip"
    result = invoke("--protocol", "pacgan", "--models", "pacgan", "--data", "ring8", "--seeds", 0,
                    "--steps", 5, "--out", tmp_path, "--dry-run")  # fmt: skip
    assert result.exit_code == 2 and "steps 4 -> 5" in result.output
