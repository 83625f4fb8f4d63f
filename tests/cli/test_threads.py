"""Torch threads: the commands take one for the bundled nets; --threads and OMP_NUM_THREADS win;
the library never changes the thread count of the process it runs in."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
import torch
from click.testing import CliRunner

import collapsekit
from collapsekit.cli import main
from collapsekit.threads import AUTOMATIC_THREADS, choose_threads

BASELINE = ["evaluate", "--data", "ring8", "--baseline", "--num-samples", "200", "--metrics", "modes"]


def threads_used(arguments: list[str], **environment: str) -> str:
    """The "torch uses N thread(s)" line of ``collapsekit -v`` run in a fresh process."""
    env = {k: v for k, v in os.environ.items() if k not in ("OMP_NUM_THREADS", "MKL_NUM_THREADS")}
    result = subprocess.run(
        [sys.executable, "-m", "collapsekit", "-v", *arguments],
        env={**env, **environment}, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    (line,) = [line for line in result.stderr.splitlines() if "torch uses" in line]
    return line.rsplit(": ", 1)[1]


def test_the_choice_follows_flag_then_environment_then_kind():
    assert choose_threads(None, "vector", environment={}) == AUTOMATIC_THREADS["vector"] == 1
    assert choose_threads(None, "image", environment={}) == AUTOMATIC_THREADS["image"]
    assert choose_threads(None, "vector", environment={"OMP_NUM_THREADS": "3"}) is None
    assert choose_threads(None, "vector", environment={"MKL_NUM_THREADS": "3"}) is None
    assert choose_threads(None, "vector", environment={"OMP_NUM_THREADS": " "}) == 1
    assert choose_threads(4, "vector", environment={"OMP_NUM_THREADS": "3"}) == 4


@pytest.mark.skipif((os.cpu_count() or 1) < 2, reason="needs 2 cores to tell 1 thread from the default")
def test_a_command_takes_one_thread_unless_told_otherwise():
    assert threads_used(BASELINE) == "torch uses 1 thread(s)"  # torch alone would take every core
    assert threads_used([*BASELINE, "--threads", "2"]) == "torch uses 2 thread(s)"
    assert threads_used(BASELINE, OMP_NUM_THREADS="2") == "torch uses 2 thread(s)"


def test_run_and_resume_choose_threads_for_their_kind_of_data(tmp_path, monkeypatch):
    asked = []
    monkeypatch.setattr("collapsekit.cli.run.use_threads", lambda *a: asked.append(a))
    arguments = ["run", "--dry-run", "--no-progress", "--out", str(tmp_path), "--name", "r"]
    assert CliRunner().invoke(main, [*arguments, "--threads", "2"]).exit_code == 0
    (tmp_path / "r" / "summary.json").unlink()
    assert CliRunner().invoke(main, ["run", "--resume", str(tmp_path / "r")]).exit_code == 0
    assert asked == [(2, "vector"), (None, "vector")]


def test_report_chooses_threads_as_the_other_commands(tmp_path, monkeypatch):
    asked = []
    monkeypatch.setattr("collapsekit.cli.report.use_threads", lambda *a: asked.append(a))
    CliRunner().invoke(main, ["report", str(tmp_path), "--threads", "3"])
    CliRunner().invoke(main, ["report", str(tmp_path)])
    assert asked == [(3, "vector"), (None, "vector")]


def test_the_monitor_never_changes_the_thread_count():
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        ring = collapsekit.get_dataset("ring8")
        with collapsekit.Monitor(ring, eval_every=1, num_samples=100) as monitor:
            monitor.observe(1, torch.zeros(8), torch.zeros(8))
            monitor.evaluate(1, lambda n: ring.sample(n))
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(before)
