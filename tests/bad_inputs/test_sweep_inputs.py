"""Bad inputs to ``collapsekit sweep``: refused before training, in one line where they concern every run."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from collapsekit.cli import main
from collapsekit.errors import CollapsekitError
from collapsekit.limits import MAX_SEED
from collapsekit.sweep import FAILED, INVALID, SweepGrid, parse_seeds, plan_sweep, run_tasks

TINY = ["--steps", "4", "--eval-every", "2", "--eval-samples", "100", "--batch-size", "32"]


def sweep_cli(*arguments: object):
    return CliRunner().invoke(main, ["sweep", "--no-progress", *map(str, arguments)])


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--lr-generator", "inf"], "Error: lr_generator must be a finite number above 0, got inf"),
        (
            ["--seeds", "0-1000000000"],
            "Error: seed range '0-1000000000' holds 1,000,000,001 seeds; a sweep takes at most 10,000",
        ),
        (["--seeds", MAX_SEED + 1], f"Error: seeds must be integers from 0 to {MAX_SEED}"),
    ],
)
def test_settings_every_run_shares_are_refused_in_one_line(tmp_path, arguments, message):
    result = sweep_cli(*TINY, *arguments, "--out", tmp_path)
    assert result.exit_code == 2, result.output
    assert result.output.strip().startswith(message), result.output
    assert len(result.output.strip().splitlines()) == 1
    assert not list(tmp_path.iterdir())  # nothing planned into the folder


def test_a_huge_seed_range_is_refused_without_building_it():
    with pytest.raises(CollapsekitError, match="holds 10,000,000,000,000,001 seeds"):
        parse_seeds("0-10000000000000000")  # a list of this size would never be built


def test_a_non_finite_dataset_parameter_fails_its_runs_without_training(tmp_path):
    grid = SweepGrid(["vanilla"], ["ring8:std=inf", "ring8"], [0], settings={"steps": 4})
    bad, good = plan_sweep(grid, tmp_path)
    assert (bad.action, good.action) == (INVALID, "train")
    (outcome,) = run_tasks([bad])
    assert outcome.status == FAILED
    assert outcome.error.endswith("parameter std='inf' must be a finite number")
    assert not (tmp_path / bad.name).exists()
