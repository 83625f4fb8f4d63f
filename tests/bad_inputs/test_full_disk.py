"""A full disk: one line naming the file and how to go on, the last checkpoint kept, then resume works.

Most cases simulate ENOSPC by patching the write that hits it; the last one fills
a real 1.5 MB tmpfs, which needs root (and a kernel that lets us mount one).
"""

from __future__ import annotations

import errno
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from collapsekit.cli import main
from collapsekit.runs import RunDir

SMALL = ["--eval-every", "10", "--eval-samples", "200", "--batch-size", "64", "--device", "cpu"]


def cli(*arguments: object):
    return CliRunner().invoke(main, [*map(str, arguments)])


def disk_full_after(calls: int):
    """An ``os.fsync`` that fills the disk after ``calls`` successful calls."""
    real, done = os.fsync, []

    def fsync(descriptor: int) -> None:
        if len(done) >= calls:
            raise OSError(errno.ENOSPC, "No space left on device")
        done.append(descriptor)
        real(descriptor)

    return fsync


def one_line(result) -> str:
    assert result.exit_code == 2, result.output
    lines = [line for line in result.output.splitlines() if line.startswith("Error")]
    assert len(lines) == 1 and "Traceback" not in result.output, result.output
    return lines[0]


def test_a_run_that_fills_the_disk_says_so_keeps_its_checkpoint_and_resumes(tmp_path, monkeypatch):
    monkeypatch.setattr(os, "fsync", disk_full_after(4))  # config, then history, samples, checkpoint at 0
    result = cli("run", "--steps", 40, *SMALL, "--no-progress", "--out", tmp_path, "--name", "r")
    folder = tmp_path / "r"
    assert one_line(result) == (
        f"Error: disk full while writing {folder / 'history.csv'}; "
        f"free space and resume with: collapsekit run --resume {folder}"
    )
    assert RunDir(folder).load_checkpoint()["trainer"]["step"] == 0  # kept
    assert not list(folder.glob(".*.tmp"))  # the failed write left nothing behind
    monkeypatch.undo()  # space freed
    assert cli("run", "--resume", folder, "--no-progress").exit_code == 0
    assert RunDir(folder).read_history()["step"].tolist() == [0, 10, 20, 30, 40]


def test_a_full_disk_while_appending_equilibrium_rows_is_one_line(tmp_path, monkeypatch):
    def full_open(path, mode="r", *args, **kwargs):
        if "a" in mode:
            raise OSError(errno.ENOSPC, "No space left on device")
        return open(path, mode, *args, **kwargs)

    monkeypatch.setattr("collapsekit.runs.open", full_open, raising=False)
    result = cli("run", "--steps", 400, *SMALL, "--no-progress", "--out", tmp_path, "--name", "r")
    assert one_line(result).startswith(f"Error: disk full while writing {tmp_path / 'r' / 'equilibrium.csv'}")


def test_resume_and_report_on_a_full_disk_are_one_line(tmp_path, monkeypatch):
    assert cli("run", "--steps", 20, *SMALL, "--no-progress", "--out", tmp_path, "--name", "r").exit_code == 0
    (tmp_path / "r" / "summary.json").unlink()
    monkeypatch.setattr(os, "fsync", disk_full_after(0))
    resumed = cli("run", "--resume", tmp_path / "r", "--no-progress")
    assert "; free space and resume with: collapsekit run --resume" in one_line(resumed)
    reported = cli("report", tmp_path / "r", "--out", tmp_path / "report")
    assert one_line(reported).startswith(f"Error: disk full while writing {tmp_path / 'report'}")
    assert one_line(reported).endswith("; free space and try again")


def _mount_tmpfs(folder: Path, size: str) -> None:
    result = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(folder)], capture_output=True)
    if result.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {result.stderr.decode().strip()}")


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0, reason="mounting a tmpfs needs root")
def test_a_real_full_disk(tmp_path):
    disk = tmp_path / "disk"
    disk.mkdir()
    _mount_tmpfs(disk, "1500k")  # about one checkpoint of the default nets (0.9 MB), not two
    try:
        command = [sys.executable, "-m", "collapsekit", "run", "--steps", "200", "--eval-every", "100"]
        command += ["--eval-samples", "200", "--batch-size", "64", "--device", "cpu", "--no-progress"]
        full = subprocess.run([*command, "--out", str(disk), "--name", "r"], capture_output=True, text=True)
        assert full.returncode == 2, full.stderr
        assert full.stderr.splitlines()[-1] == (
            f"Error: disk full while writing {disk / 'r' / 'checkpoint.pt'}; "
            f"free space and resume with: collapsekit run --resume {disk / 'r'}"
        )
        assert RunDir(disk / "r").load_checkpoint()["trainer"]["step"] in (0, 100)  # the last one kept
        subprocess.run(["mount", "-o", "remount,size=20m", str(disk)], check=True)  # space freed
        resumed = subprocess.run([*command[:4], "--resume", str(disk / "r"), "--no-progress"], capture_output=True, text=True)
        assert resumed.returncode == 0, resumed.stderr
        assert RunDir(disk / "r").read_summary()["step"] == 200
    finally:
        subprocess.run(["umount", str(disk)], check=False)
