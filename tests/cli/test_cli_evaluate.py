"""``collapsekit evaluate`` through click's runner: exit codes, JSON, tables and one-line errors."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import torch
from click.testing import CliRunner

from collapsekit.cli import main
from collapsekit.data import get_dataset
from collapsekit.samples_io import save_samples


@pytest.fixture
def dropped(tmp_path: Path) -> Path:
    ring = get_dataset("ring8")
    samples = ring.sample(1600, torch.Generator().manual_seed(0))
    mode, _ = ring.assign(samples)
    path = tmp_path / "dropped.npy"
    save_samples(path, samples[mode < 5][:900])
    return path


def run(*arguments: str):
    return CliRunner().invoke(main, ["evaluate", *arguments])


def test_json_output(dropped: Path) -> None:
    result = run(str(dropped), "--data", "ring8", "--metrics", "modes,precision_recall", "--json")
    assert result.exit_code == 0, result.output
    values = json.loads(result.stdout)
    assert values["num_samples"] == 900
    assert values["modes_captured"] == 5 and values["mode_counts"][5:] == [0, 0, 0]
    assert values["precision"] > 0.9 and values["recall"] == pytest.approx(5 / 8, abs=0.06)
    assert set(values) >= {"modes_total", "high_quality_frac", "mode_kl", "recall"}


def test_table_output_and_warning(dropped: Path) -> None:
    result = run(str(dropped), "--data", "ring8", "--metrics", "fid,coverage")
    assert result.exit_code == 0, result.output
    assert "against fresh ring8 samples:" in result.stdout
    assert "coverage" in result.stdout and "fid" in result.stdout
    assert "Warning: FID from 900 samples is biased upward" in result.stderr


def test_baseline_and_real_file(tmp_path: Path, dropped: Path) -> None:
    result = run(
        "--data", "ring8", "--baseline", "--num-samples", "500", "--metrics", "modes", "--json"
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["modes_captured"] == 8
    result = run(str(dropped), "--real", str(dropped), "--metrics", "density_coverage", "--json")
    assert json.loads(result.stdout) == {"num_samples": 900, "density": 1.0, "coverage": 1.0}


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["missing.npy", "--data", "ring8"], "samples file 'missing.npy' does not exist"),
        (["--data", "ring8"], "give a SAMPLES file to evaluate, or --baseline"),
        (["DROPPED"], "nothing to compare with; pass --data NAME, --data-file FILE or --real FILE"),
        (["DROPPED", "--data", "ring8", "--baseline"], "drop SAMPLES or --baseline"),
        (["DROPPED", "--data", "grid26"], "unknown dataset 'grid26'"),
        (["DROPPED", "--data", "ring8", "--metrics", "precision,bogus"], "unknown metric 'bogus'"),
        (["BAD", "--data", "ring8"], "samples contain NaN or inf in 1 of 10 rows"),
        (["WIDE", "--data", "ring8"], r"samples have shape \(10, 3\), but ring8 expects \(N, 2\)"),
        (["DROPPED", "--data", "ring8", "--features", "vgg16"], "vgg16 needs a local weights file"),
    ],
)
def test_errors_are_one_line_with_exit_code_2(
    tmp_path: Path, dropped: Path, arguments, message
) -> None:
    bad = torch.zeros(10, 2)
    bad[3, 1] = float("inf")
    save_samples(tmp_path / "bad.pt", bad)
    save_samples(tmp_path / "wide.npz", torch.zeros(10, 3))
    paths = {
        "DROPPED": str(dropped),
        "BAD": str(tmp_path / "bad.pt"),
        "WIDE": str(tmp_path / "wide.npz"),
    }
    result = run(*[paths.get(argument, argument) for argument in arguments])
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: ")
    assert re.search(message, lines[0]), lines[0]
