"""Bad settings for ``collapsekit run``: refused in one line with exit code 2, before any folder is written."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from collapsekit.cli import main
from collapsekit.limits import MAX_SEED

TINY = ["--steps", "4", "--eval-every", "2", "--eval-samples", "100", "--batch-size", "32"]


def run_cli(*arguments: object):
    return CliRunner().invoke(main, ["run", "--no-progress", "--device", "cpu", *map(str, arguments)])


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--data", "ring8:radius=inf"], "dataset 'ring8' parameter radius='inf' must be a finite number"),
        (["--data", "ring8:std=inf"], "dataset 'ring8' parameter std='inf' must be a finite number"),
        (["--data", "grid25:spacing=nan"], "dataset 'grid25' parameter spacing='nan' must be a finite"),
        (["--lr-generator", "inf"], "lr_generator must be a finite number above 0, got inf"),
        (["--lr-discriminator", "inf"], "lr_discriminator must be a finite number above 0, got inf"),
        (["--seed", 2**64 - 1_000_003], f"seed must be an integer from 0 to {MAX_SEED}"),
        (["--seed", MAX_SEED + 1], f"seed must be an integer from 0 to {MAX_SEED}"),
        (["--eval-samples", 10**12], "eval_samples (1,000,000,000,000 samples of 258 values) need"),
    ],
)
def test_bad_settings_are_one_line_and_leave_no_folder(tmp_path, arguments, message):
    result = run_cli(*TINY, *arguments, "--out", tmp_path / "runs")
    assert result.exit_code == 2, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], result.output
    assert not any((tmp_path / "runs").glob("*/config.json"))  # no half-made run left behind


def test_the_largest_seed_trains(tmp_path):
    result = run_cli(*TINY, "--seed", MAX_SEED, "--out", tmp_path)
    assert result.exit_code == 0, result.output
    assert f"seed{MAX_SEED}" in result.output
