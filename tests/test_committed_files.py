"""The repository stays small enough to submit: committed run folders carry no bulky files.

A submission over the workplace's size limit is refused whole, with every run in it; one
stacked-image run with its whole last evaluation in samples.npz (25,600 images, 240 MB)
was enough. These checks run on every file git tracks or would add (untracked and not
ignored, like a run folder that has just finished), so a bulky file fails the tests
before it is committed.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FILE_LIMIT = 5 * 2**20  # bytes: the largest committed file is a 50k-step equilibrium.csv, 2.3 MB
SAMPLES_LIMIT = 2 * 2**20  # bytes: samples.npz is bounded by collapsekit.monitor.snapshots


def tracked_files() -> list[Path]:
    """Files git tracks, and those it would add (untracked, not ignored)."""
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("not a git checkout: no tracked files to check")
    command = ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"]
    listing = subprocess.run(command, cwd=ROOT, capture_output=True, check=True).stdout.decode()
    return [ROOT / name for name in listing.split("\0") if name and (ROOT / name).is_file()]


def test_no_committed_file_is_bulky():
    bulky = [
        f"{path.relative_to(ROOT)} ({path.stat().st_size / 2**20:.1f} MiB)"
        for path in tracked_files()
        if path.stat().st_size > FILE_LIMIT
    ]
    assert bulky == []


def test_committed_run_samples_are_small():
    samples = [path for path in tracked_files() if path.name == "samples.npz"]
    assert samples, "the committed reports have run folders with samples"
    bulky = [str(path.relative_to(ROOT)) for path in samples if path.stat().st_size > SAMPLES_LIMIT]
    assert bulky == []
