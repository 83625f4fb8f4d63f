import json
import os
import signal
import subprocess
import sys
import time

import pytest
from click.testing import CliRunner

from collapsekit.cli import main
from collapsekit.runs import RunDir, load_runs
from reference_models.training import GANTrainer

SMALL = ["--eval-samples", "300", "--batch-size", "64", "--no-progress", "--device", "cpu"]


def invoke(*args):
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


def test_dry_run_writes_a_complete_run_folder(tmp_path):
    result = invoke("run", "--dry-run", "--out", tmp_path, "--name", "smoke", "--no-progress")
    assert result.exit_code == 0, result.output
    folder = tmp_path / "smoke"
    assert sorted(p.name for p in folder.iterdir()) == [
        "checkpoint.pt", "config.json", "d_map.npz", "equilibrium.csv", "history.csv", "samples.npz",
        "summary.json",
    ]
    summary = json.loads((folder / "summary.json").read_text())
    assert summary["status"] == "finished" and summary["step"] == 20
    assert summary["metrics"]["modes_total"] == 8 and summary["metrics"]["num_samples"] == 500
    assert "modes_captured" in result.output and f"Run folder: {folder}" in result.output


def test_options_reach_the_trainer(tmp_path):
    result = invoke(
        "run", "--data", "grid25", "--seed", "3", "--steps", "30", "--eval-every", "15", "--out", tmp_path,
        "--name", "g", *SMALL,
    )
    assert result.exit_code == 0, result.output
    config = RunDir.open(tmp_path / "g").read_config()
    assert (config["data"], config["seed"], config["steps"], config["eval_every"]) == ("grid25", 3, 30, 15)
    assert RunDir(tmp_path / "g").read_history()["step"].tolist() == [0, 15, 30]
    assert RunDir(tmp_path / "g").read_summary()["metrics"]["modes_total"] == 25


def test_list_shows_datasets_and_models():
    result = invoke("list")
    assert result.exit_code == 0
    for name in ("ring8", "grid25", "vanilla"):
        assert name in result.output


def test_help_documents_every_flag():
    result = invoke("run", "--help")
    for flag in ("--model", "--data", "--seed", "--steps", "--eval-every", "--out", "--resume", "--dry-run"):
        assert flag in result.output


@pytest.mark.parametrize(
    "args, message",
    [
        (["--data", "ring9"], "unknown dataset 'ring9'; choose one of: "),
        (["--model", "gan9"], "unknown model 'gan9'; choose one of: "),
        (["--steps", "-5"], "Invalid value for '--steps'"),
        (["--steps", "many"], "Invalid value for '--steps'"),
        (["--seed", "1.5"], "Invalid value for '--seed'"),
        (["--data", "ring8:std=-1"], "std must be positive"),
    ],
)
def test_bad_input_is_one_clear_line_with_exit_code_2(tmp_path, args, message):
    result = invoke("run", *args, "--out", tmp_path / "runs", "--dry-run", "--no-progress")
    assert result.exit_code == 2
    assert message in result.output
    assert "Traceback" not in result.output
    assert not (tmp_path / "runs").exists() or not any((tmp_path / "runs").iterdir())


def test_output_folder_that_is_a_file(tmp_path):
    target = tmp_path / "file"
    target.write_text("keep me")
    result = invoke("run", "--out", target, "--dry-run", "--no-progress")
    assert result.exit_code == 2 and "is a file, not a folder" in result.output
    assert target.read_text() == "keep me"


def test_unwritable_output_folder():
    # /sys refuses new folders even to root (CI runs as root, so chmod cannot lock a folder)
    result = invoke("run", "--out", "/sys/collapsekit-test/runs", "--dry-run", "--no-progress")
    assert result.exit_code == 2
    assert "cannot create /sys/collapsekit-test/runs" in result.output and "choose a writable folder" in result.output


def test_resume_refuses_folders_that_are_not_runs(tmp_path):
    (tmp_path / "empty").mkdir()
    result = invoke("run", "--resume", tmp_path / "empty")
    assert result.exit_code == 2 and "is not a run folder: config.json is missing" in result.output
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "config.json").write_text("{oops")
    result = invoke("run", "--resume", tmp_path / "bad")
    assert result.exit_code == 2 and "config.json is corrupt" in result.output
    assert (tmp_path / "bad" / "config.json").read_text() == "{oops"  # nothing overwritten


def test_interrupted_run_resumes_to_the_same_summary(tmp_path, monkeypatch):
    common = ["--steps", "60", "--eval-every", "20", "--out", tmp_path, *SMALL]
    assert invoke("run", *common, "--name", "whole").exit_code == 0

    original = GANTrainer.train_step

    def ctrl_c_at_45(self):
        if self.step == 45:
            raise KeyboardInterrupt
        return original(self)

    monkeypatch.setattr(GANTrainer, "train_step", ctrl_c_at_45)
    result = CliRunner().invoke(main, [str(a) for a in ("run", *common, "--name", "cut")])
    assert result.exit_code == 130
    assert "collapsekit run --resume" in result.output
    monkeypatch.setattr(GANTrainer, "train_step", original)

    result = invoke("run", "--resume", tmp_path / "cut", "--no-progress")
    assert result.exit_code == 0, result.output
    whole = RunDir(tmp_path / "whole").read_summary()["metrics"]
    cut = RunDir(tmp_path / "cut").read_summary()["metrics"]
    for key in ("modes_captured", "high_quality_frac", "mode_counts", "d_real", "d_fake"):
        assert cut[key] == whole[key]
    again = invoke("run", "--resume", tmp_path / "cut", "--no-progress")
    assert again.exit_code == 0 and "already finished" in again.output


def test_kill_9_leaves_a_readable_run_that_resumes(tmp_path):
    folder = tmp_path / "killed"
    command = [
        sys.executable, "-m", "collapsekit", "run", "--steps", "3000", "--eval-every", "20",
        "--out", tmp_path, "--name", "killed", *SMALL,
    ]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.time() + 120
        while time.time() < deadline:
            if (folder / "checkpoint.pt").exists() and (folder / "history.csv").exists():
                if len(RunDir(folder).read_history()) >= 3:
                    break
            time.sleep(0.05)
        os.kill(process.pid, signal.SIGKILL)
    finally:
        process.wait()
    frame = load_runs(tmp_path)
    assert frame.loc[0, "status"] == "incomplete" and frame.loc[0, "step"] >= 40
    measured = RunDir(folder).read_history()["step"].tolist()
    assert measured[:3] == [0, 20, 40]
    # finish it quickly: the resumed run keeps its own config, so shorten it in place
    config = json.loads((folder / "config.json").read_text())
    checkpoint_step = RunDir(folder).load_checkpoint()["trainer"]["step"]
    config["steps"] = checkpoint_step + 40
    (folder / "config.json").write_text(json.dumps(config))
    result = invoke("run", "--resume", folder, "--no-progress")
    assert result.exit_code == 0, result.output
    steps = RunDir(folder).read_history()["step"].tolist()
    assert steps == sorted(set(steps)) and steps[-1] == checkpoint_step + 40
    assert RunDir(folder).read_summary()["status"] == "finished"


def test_sigterm_interrupts_the_run_as_ctrl_c_does(tmp_path):
    folder = tmp_path / "termed"
    command = [
        sys.executable, "-m", "collapsekit", "run", "--steps", "1000000", "--eval-every", "20",
        "--out", tmp_path, "--name", "termed", *SMALL,
    ]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.time() + 120
        while time.time() < deadline:  # mid-training: after the evaluation at step 20
            if (folder / "history.csv").exists() and len(RunDir(folder).read_history()) >= 2:
                break
            time.sleep(0.05)
        process.send_signal(signal.SIGTERM)
        output = process.communicate(timeout=60)[0]
    finally:
        process.kill()
    assert process.returncode == 130, output
    assert f"collapsekit run --resume {folder}" in output
    summary = RunDir(folder).read_summary()
    assert summary["status"] == "interrupted" and summary["step"] >= 20
