"""``collapsekit run --resume`` after the folder was edited, damaged, half-written or is in use.

A 20-step run is stopped at its step-20 checkpoint of a 40-step plan (summary
removed, ``steps`` raised), then copied and damaged per case; the undamaged copy,
resumed, gives the numbers every repaired copy must end with.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import threading
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from collapsekit.cli import main
from collapsekit.cli.run_folder import claim_run_folder
from collapsekit.run_lock import lock_path
from collapsekit.runs import RunDir, find_runs

SMALL = ["--eval-every", "10", "--eval-samples", "200", "--batch-size", "64", "--device", "cpu"]


def cli(*arguments: object):
    return CliRunner().invoke(main, ["run", "--no-progress", *map(str, arguments)])


@pytest.fixture(scope="module")
def stopped(tmp_path_factory) -> Path:
    """A run stopped at its step-20 checkpoint, 20 steps short of its end."""
    out = tmp_path_factory.mktemp("stopped")
    assert cli("--steps", 20, *SMALL, "--out", out, "--name", "run").exit_code == 0
    folder = out / "run"
    config = json.loads((folder / "config.json").read_text())
    (folder / "config.json").write_text(json.dumps({**config, "steps": 40}))
    (folder / "summary.json").unlink()
    return folder


@pytest.fixture(scope="module")
def resumed_untouched(stopped, tmp_path_factory) -> dict:
    folder = tmp_path_factory.mktemp("untouched") / "run"
    shutil.copytree(stopped, folder)
    assert cli("--resume", folder).exit_code == 0
    return RunDir(folder).read_summary()


def copy_of(stopped: Path, tmp_path: Path) -> Path:
    shutil.copytree(stopped, tmp_path / "run")
    return tmp_path / "run"


def edit_config(folder: Path, **changes) -> None:
    config = json.loads((folder / "config.json").read_text())
    (folder / "config.json").write_text(json.dumps({**config, **changes}))


@pytest.mark.parametrize(
    ("change", "shown"),
    [
        ({"model": "minibatch"}, "model='minibatch' but its checkpoint was trained with model='vanilla'"),
        ({"data": "grid25"}, "data='grid25' but its checkpoint was trained with data='ring8'"),
        ({"hidden": 64}, "hidden=64 but its checkpoint was trained with hidden=128"),
        ({"z_dim": 8}, "z_dim=8 but its checkpoint was trained with z_dim=256"),
    ],
)
def test_a_config_edited_to_another_run_is_refused_in_one_line(stopped, tmp_path, change, shown):
    folder = copy_of(stopped, tmp_path)
    edit_config(folder, **change)
    result = cli("--resume", folder)
    assert result.exit_code == 2, result.output
    assert result.output.strip().splitlines()[-1] == (
        f"Error: {folder}/config.json says {shown}; put config.json back, "
        "or start a new run with these settings"
    )
    assert RunDir(folder).read_history()["step"].tolist() == [0, 10, 20]  # nothing trained on


def test_networks_that_do_not_fit_are_one_line_even_without_a_record(stopped, tmp_path):
    folder = copy_of(stopped, tmp_path)
    import torch

    checkpoint = torch.load(folder / "checkpoint.pt", weights_only=True)
    del checkpoint["trainer"]["trained_as"]  # as written before the record was kept
    torch.save(checkpoint, folder / "checkpoint.pt")
    edit_config(folder, hidden=64)
    result = cli("--resume", folder)
    assert result.exit_code == 2
    assert "checkpoint.pt does not fit the model config.json describes" in result.output


def truncate(folder: Path, name: str) -> None:
    content = (folder / name).read_bytes()
    (folder / name).write_bytes(content[: len(content) // 2])


def insert_line(folder: Path, name: str, line: str) -> None:
    lines = (folder / name).read_text().splitlines()
    (folder / name).write_text("\n".join([*lines[:2], line, *lines[2:]]) + "\n")


@pytest.mark.parametrize(
    ("damage", "warning"),
    [
        (lambda f: insert_line(f, "history.csv", "garbage,,x"), "restored its 3 rows up to step 20"),
        (lambda f: (f / "history.csv").unlink(), "history.csv lacks evaluations (0 of 3)"),
        (lambda f: truncate(f, "history.csv"), "restored its 3 rows up to step 20"),
        (lambda f: truncate(f, "samples.npz"), "samples.npz is corrupt (File is not a zip file); removed it"),
        (lambda f: insert_line(f, "equilibrium.csv", "oops"), "bad line 'oops'; kept its 20 readable rows"),
    ],
)
def test_damaged_files_are_repaired_and_the_run_ends_as_if_untouched(
    stopped, resumed_untouched, tmp_path, caplog, damage, warning
):
    folder = copy_of(stopped, tmp_path)
    damage(folder)
    result = cli("--resume", folder)
    assert result.exit_code == 0, result.output
    (line,) = [r.getMessage() for r in caplog.records if r.name == "reference_models.recovery"]
    assert warning in line  # one warning line per repair
    summary = RunDir(folder).read_summary()
    assert summary["metrics"] == resumed_untouched["metrics"] | {"elapsed_s": summary["metrics"]["elapsed_s"]}
    assert summary["findings"] == resumed_untouched["findings"]
    assert RunDir(folder).read_history()["step"].tolist() == [0, 10, 20, 30, 40]


def test_a_corrupt_checkpoint_says_how_to_go_on(stopped, tmp_path):
    folder = copy_of(stopped, tmp_path)
    truncate(folder, "checkpoint.pt")
    result = cli("--resume", folder)
    assert result.exit_code == 2
    assert "the run cannot resume from it: remove it and resume to start the run again" in result.output
    (folder / "checkpoint.pt").unlink()  # ... as it says
    again = cli("--resume", folder)
    assert again.exit_code == 0 and RunDir(folder).read_summary()["step"] == 40


def test_a_run_killed_before_its_first_checkpoint_restarts_on_resume(tmp_path):
    RunDir.create(tmp_path / "early", {"model": "vanilla", "data": "ring8", "steps": 20, "eval_every": 10,
                                       "eval_samples": 200, "batch_size": 64, "device": "cpu"})  # fmt: skip
    (tmp_path / "early" / "equilibrium.csv").write_text("step,d_real,d_fake\n1,0.5,0.5\n")
    taken = cli("--steps", 20, *SMALL, "--out", tmp_path, "--name", "early")
    assert taken.exit_code == 2 and "continue it with --resume" in taken.output
    result = cli("--resume", tmp_path / "early")
    assert result.exit_code == 0, result.output
    assert "stopped before its first checkpoint; starting it again from step 0" in result.output
    assert RunDir(tmp_path / "early").read_history()["step"].tolist() == [0, 10, 20]
    assert RunDir(tmp_path / "early").read_equilibrium()["step"].tolist() == list(range(1, 21))


def test_resume_removes_stale_temporary_files(stopped, tmp_path):
    folder = copy_of(stopped, tmp_path)
    (folder / ".samples.npz.k2j3h4.tmp").write_bytes(b"half an archive")
    assert cli("--resume", folder).exit_code == 0
    assert not list(folder.glob(".*.tmp"))


def test_report_removes_old_temporary_files_of_idle_runs_and_never_reads_them(stopped, tmp_path):
    folder = copy_of(stopped, tmp_path)
    old, fresh = folder / ".samples.npz.aaaa.tmp", folder / ".history.csv.bbbb.tmp"
    for path in (old, fresh):
        path.write_bytes(b"x")
    os.utime(old, (time.time() - 3600, time.time() - 3600))  # a writer killed an hour ago
    (tmp_path / "not-a-run").mkdir()
    (tmp_path / "not-a-run" / ".config.json.cccc.tmp").write_text("{}")
    assert find_runs(tmp_path) == [folder]  # temporary files are never data
    result = CliRunner().invoke(main, ["report", str(tmp_path), "--out", str(tmp_path / "report")])
    assert result.exit_code == 0, result.output
    assert (old.exists(), fresh.exists()) == (False, True)  # a fresh one may be a live write


def test_report_leaves_the_temporary_files_of_a_run_being_trained(stopped, tmp_path):
    folder = copy_of(stopped, tmp_path)
    old = folder / ".samples.npz.aaaa.tmp"
    old.write_bytes(b"x")
    os.utime(old, (time.time() - 3600, time.time() - 3600))
    with open(lock_path(folder), "a+b") as holder:
        fcntl.flock(holder, fcntl.LOCK_EX | fcntl.LOCK_NB)  # another process trains it
        CliRunner().invoke(main, ["report", str(folder), "--out", str(tmp_path / "report")])
    assert old.exists()


def test_a_second_resume_of_a_run_in_training_refuses_in_one_line(stopped, tmp_path):
    folder = copy_of(stopped, tmp_path)
    with open(lock_path(folder), "a+b") as holder:
        fcntl.flock(holder, fcntl.LOCK_EX | fcntl.LOCK_NB)  # the first `run --resume`
        result = cli("--resume", folder)
    assert result.exit_code == 2
    assert result.output.strip() == (
        f"Error: another process is training {folder} (it holds {lock_path(folder)}); "
        "let it finish or stop it, then resume it"
    )
    assert RunDir(folder).read_equilibrium()["step"].max() == 20  # no step trained twice


def test_runs_started_in_the_same_second_get_their_own_folders(tmp_path, monkeypatch):
    monkeypatch.setattr("collapsekit.cli.run.default_run_name", lambda *a: "vanilla-ring8-seed0-now")
    first = cli("--steps", 10, *SMALL, "--out", tmp_path)
    second = cli("--steps", 10, *SMALL, "--out", tmp_path)
    assert (first.exit_code, second.exit_code) == (0, 0), second.output
    assert sorted(p.name for p in tmp_path.iterdir() if not p.name.startswith(".")) == [
        "vanilla-ring8-seed0-now",
        "vanilla-ring8-seed0-now-2",
    ]


def test_simultaneous_claims_of_one_name_all_get_distinct_folders(tmp_path):
    claimed, start = [], threading.Barrier(8)

    def claim() -> None:
        start.wait()
        claimed.append(claim_run_folder(tmp_path, "same-name"))

    threads = [threading.Thread(target=claim) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(p.name for p in claimed) == sorted(
        ["same-name", *(f"same-name-{index}" for index in range(2, 9))]
    )
