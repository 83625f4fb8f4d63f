"""Damaged run folders: ``collapsekit report`` and ``load_runs`` skip each with one line naming the file.

One good run is trained once; each case copies it and damages one part the way
the hardening probe did (truncation, wrong JSON types, NaN grid axes, a stray line).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

import collapsekit
import reference_models
from collapsekit.cli import main


@pytest.fixture(scope="module")
def good_run(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("good") / "vanilla-ring8-seed0"
    config = reference_models.TrainConfig(
        steps=4, eval_every=2, eval_samples=100, batch_size=32, z_dim=8, hidden=16, device="cpu"
    )
    reference_models.train(config, folder, progress=False)
    return folder


def truncate(name: str):
    def damage(folder: Path) -> None:
        content = (folder / name).read_bytes()
        (folder / name).write_bytes(content[: len(content) // 2])

    return damage


def edit_summary(**changes):
    def damage(folder: Path) -> None:
        summary = json.loads((folder / "summary.json").read_text())
        for key, value in changes.items():
            if key.startswith("metric_"):
                summary["metrics"][key.removeprefix("metric_")] = value
            else:
                summary[key] = value
        (folder / "summary.json").write_text(json.dumps(summary))

    return damage


def nan_axis(axis: str):
    def damage(folder: Path) -> None:
        with np.load(folder / "d_map.npz") as archive:
            grid = {name: archive[name] for name in archive.files}
        grid[axis][0] = np.nan
        np.savez(folder / "d_map.npz", **grid)

    return damage


def insert_line(name: str, line: str):
    def damage(folder: Path) -> None:
        lines = (folder / name).read_text().splitlines()
        lines.insert(2, line)
        (folder / name).write_text("\n".join(lines) + "\n")

    return damage


DAMAGES = {
    "truncated samples": (truncate("samples.npz"), "samples.npz is corrupt (File is not a zip file)"),
    "truncated d_map": (truncate("d_map.npz"), "d_map.npz is corrupt (File is not a zip file)"),
    "findings text": (
        edit_summary(findings="oops"),
        "summary.json is corrupt: findings must be a list of objects, got 'oops'",
    ),
    "findings of text": (
        edit_summary(findings=["a"]),
        "summary.json is corrupt: findings must be a list of objects, got ['a']",
    ),
    "metric as text": (
        edit_summary(metric_mode_kl="0.3"),
        "summary.json is corrupt: metric mode_kl must be a number, got '0.3'",
    ),
    "metric as list": (
        edit_summary(metric_modes_captured=[1, 2]),
        "summary.json is corrupt: metric modes_captured must be a number, got [1, 2]",
    ),
    "modes_total as text": (
        edit_summary(metric_modes_total="8"),
        "summary.json is corrupt: metric modes_total must be a number, got '8'",
    ),
    "metric 10**400": (
        edit_summary(metric_mode_kl=10**400),
        "summary.json is corrupt: metric mode_kl must be a number, got 1000",
    ),
    "step as text": (
        edit_summary(step="late"),
        "summary.json is corrupt: step must be a step number, got 'late'",
    ),
    "metrics as list": (
        edit_summary(metrics=[1]),
        "summary.json is corrupt: metrics must be an object, got [1]",
    ),
    "NaN x axis": (nan_axis("x"), "d_map.npz is corrupt: d_map x must be at least 2 finite"),
    "NaN y axis": (nan_axis("y"), "d_map.npz is corrupt: d_map y must be at least 2 finite"),
    "history garbage": (
        insert_line("history.csv", "garbage,,x"),
        "history.csv is corrupt: a step is not a whole number, got 'garbage'",
    ),
    "equilibrium garbage": (
        insert_line("equilibrium.csv", "oops"),
        "equilibrium.csv is corrupt: bad line 'oops'",
    ),
}


@pytest.fixture(scope="module")
def damaged(good_run, tmp_path_factory) -> Path:
    """A folder of runs: the good one, and one copy per damage."""
    root = tmp_path_factory.mktemp("damaged")
    shutil.copytree(good_run, root / "good")
    for index, (damage, _) in enumerate(DAMAGES.values()):
        shutil.copytree(good_run, root / f"case{index:02d}")
        damage(root / f"case{index:02d}")
    return root


def test_report_skips_each_damaged_folder_with_one_line_naming_the_file(damaged, tmp_path):
    result = CliRunner().invoke(main, ["report", str(damaged), "--out", str(tmp_path / "report")])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("Report of 1 run on ring8")
    skipped = [line.strip() for line in result.stderr.splitlines()]
    assert len(skipped) == len(DAMAGES), result.stderr  # one line each, no log duplicate
    for index, (name, (_, message)) in enumerate(DAMAGES.items()):
        line = f"skipped {(damaged / f'case{index:02d}').resolve()}: {message}"
        assert any(entry.startswith(line) for entry in skipped), (name, result.stderr)


def test_load_runs_skips_damaged_summaries_with_a_warning(damaged, caplog):
    frame = collapsekit.load_runs(damaged)
    summary_damages = [name for name, (_, message) in DAMAGES.items() if "summary.json" in message]
    assert len(frame) == 1 + len(DAMAGES) - len(summary_damages)  # the others are read lazily
    assert caplog.text.count("summary.json is corrupt") == len(summary_damages)


def test_a_report_file_that_is_a_folder_is_refused_before_reading(good_run, tmp_path):
    (tmp_path / "report.html").mkdir()
    result = CliRunner().invoke(main, ["report", str(good_run), "--out", str(tmp_path)])
    assert result.exit_code == 2
    assert result.output.strip() == (
        f"Error: {tmp_path / 'report.html'} is a folder, where the report writes a file; "
        "remove it or choose another --out"
    )
