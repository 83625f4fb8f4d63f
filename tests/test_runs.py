import json
import logging

import numpy as np
import pandas as pd
import pytest
import torch

from collapsekit.errors import RunFolderError
from collapsekit.runs import RunDir, load_runs


def test_create_writes_config_and_refuses_to_overwrite(tmp_path):
    run = RunDir.create(tmp_path / "a", {"model": "vanilla", "seed": 1})
    assert json.loads((tmp_path / "a" / "config.json").read_text()) == {"model": "vanilla", "seed": 1}
    assert RunDir.open(tmp_path / "a").read_config()["seed"] == 1
    with pytest.raises(RunFolderError, match="already holds a run; continue it with --resume"):
        RunDir.create(tmp_path / "a", {"model": "other"})
    assert run.read_config()["model"] == "vanilla"  # nothing overwritten


def test_history_round_trip_keeps_lists_and_nan(tmp_path):
    run = RunDir.create(tmp_path / "r", {})
    rows = [
        {"step": 0, "modes_captured": 1, "mode_counts": [3, 0, 1], "mode_kl": float("nan")},
        {"step": 10, "modes_captured": 2, "mode_counts": [1, 1, 1], "mode_kl": 0.25},
    ]
    run.write_history(rows)
    history = run.read_history()
    assert history["step"].tolist() == [0, 10]
    assert history["mode_counts"].tolist() == [[3, 0, 1], [1, 1, 1]]
    assert np.isnan(history["mode_kl"][0]) and history["mode_kl"][1] == 0.25


def test_equilibrium_appends_and_drops_a_torn_last_line(tmp_path):
    run = RunDir.create(tmp_path / "r", {})
    run.append_equilibrium(np.array([1, 2]), np.array([0.9, 0.8]), np.array([0.1, 0.2]))
    run.append_equilibrium(np.array([3]), np.array([0.7]), np.array([0.3]))
    with open(tmp_path / "r" / "equilibrium.csv", "a") as stream:
        stream.write("4,0.6")  # killed mid-write
    frame = run.read_equilibrium()
    assert frame["step"].tolist() == [1, 2, 3]
    assert frame["d_real"].tolist() == [0.9, 0.8, 0.7]
    kept = run.truncate_equilibrium(2)
    assert kept["step"].tolist() == [1, 2]
    assert run.read_equilibrium()["d_fake"].tolist() == [0.1, 0.2]


def test_checkpoint_round_trip_with_weights_only(tmp_path):
    run = RunDir.create(tmp_path / "r", {})
    state = {"step": 5, "weights": torch.arange(3.0), "rng": torch.Generator().get_state()}
    run.save_checkpoint(state)
    loaded = run.load_checkpoint()
    assert loaded["step"] == 5 and torch.equal(loaded["weights"], torch.arange(3.0))
    (tmp_path / "r" / "checkpoint.pt").write_bytes(b"not a checkpoint")
    with pytest.raises(RunFolderError, match="checkpoint.pt is corrupt"):
        run.load_checkpoint()


def test_samples_round_trip(tmp_path):
    run = RunDir.create(tmp_path / "r", {})
    run.write_samples({"final": np.ones((4, 2), dtype=np.float32)})
    assert run.read_samples()["final"].shape == (4, 2)


@pytest.mark.parametrize("content", ["{not json", "[1, 2]"])
def test_corrupt_config_is_a_clear_error(tmp_path, content):
    (tmp_path / "r").mkdir()
    (tmp_path / "r" / "config.json").write_text(content)
    with pytest.raises(RunFolderError, match="config.json is corrupt"):
        RunDir.open(tmp_path / "r")


def test_open_rejects_folders_that_are_not_runs(tmp_path):
    with pytest.raises(RunFolderError, match="is not a folder"):
        RunDir.open(tmp_path / "missing")
    (tmp_path / "empty").mkdir()
    with pytest.raises(RunFolderError, match="is not a run folder: config.json is missing"):
        RunDir.open(tmp_path / "empty")


def test_load_runs_reads_finished_and_incomplete_and_skips_corrupt(tmp_path, caplog):
    done = RunDir.create(tmp_path / "done", {"model": "vanilla", "seed": 0})
    done.write_summary({"status": "finished", "step": 40, "metrics": {"modes_captured": 8}, "findings": []})
    partial = RunDir.create(tmp_path / "partial", {"model": "vanilla", "seed": 1})
    partial.write_history([{"step": 20, "modes_captured": 3}])
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "config.json").write_text("{")
    with caplog.at_level(logging.WARNING):
        frame = load_runs(tmp_path)
    assert isinstance(frame, pd.DataFrame)
    by_id = frame.set_index("run_id")
    assert by_id.loc["done", "status"] == "finished" and by_id.loc["done", "modes_captured"] == 8
    assert by_id.loc["partial", "status"] == "incomplete" and by_id.loc["partial", "modes_captured"] == 3
    assert "broken" not in by_id.index
    assert "broken" in caplog.text
