"""What the report reads from the run store: histories and the stored discriminator map."""

import numpy as np
import pytest
import torch

import collapsekit
import reference_models
from collapsekit.errors import RunFolderError
from collapsekit.runs import RunDir, load_history, load_runs, read_d_map, write_d_map
from reference_models.nets import MLPDiscriminator


def test_d_map_round_trip_and_validation(tmp_path):
    x, y = np.linspace(-1, 1, 4), np.linspace(0, 2, 3)
    values = np.arange(12, dtype=np.float32).reshape(3, 4) / 11
    assert read_d_map(tmp_path) is None
    write_d_map(tmp_path, x, y, values)
    grid = read_d_map(tmp_path)
    assert np.array_equal(grid["x"], x) and np.array_equal(grid["y"], y)
    assert np.array_equal(grid["values"], values)
    with pytest.raises(RunFolderError, match=r"shape \(len\(y\), len\(x\)\) = \(3, 4\)"):
        write_d_map(tmp_path, x, y, values.T)
    with pytest.raises(RunFolderError, match="pass sigmoid\\(D\\), not logits"):
        write_d_map(tmp_path, x, y, values * 5 - 2)
    with pytest.raises(RunFolderError, match="strictly increasing"):
        write_d_map(tmp_path, x[::-1], y, values)
    (tmp_path / "d_map.npz").write_bytes(b"torn")
    with pytest.raises(RunFolderError, match="d_map.npz is corrupt"):
        read_d_map(tmp_path)


def test_training_stores_the_final_discriminator_map(tiny_config, tmp_path):
    config = tiny_config(seed=2)
    reference_models.train(config, tmp_path / "run", progress=False)
    grid = read_d_map(tmp_path / "run")
    assert grid["values"].shape == (128, 128) and grid["x"].shape == (128,)
    ring = collapsekit.get_dataset("ring8")
    assert grid["x"][0] < -2.0 < 2.0 < grid["x"][-1]  # covers the ring (radius 2) with a margin
    # The map is the final discriminator: rebuild it from the checkpoint and evaluate the same grid.
    state = RunDir(tmp_path / "run").load_checkpoint()["trainer"]["discriminator"]
    discriminator = MLPDiscriminator(ring.sample_shape[0], config.hidden)
    discriminator.load_state_dict(state)
    index = [(0, 0), (57, 120), (127, 3), (100, 100)]  # (row: y, column: x)
    points = torch.tensor([[grid["x"][j], grid["y"][i]] for i, j in index], dtype=torch.float32)
    with torch.no_grad():
        expected = torch.sigmoid(discriminator(points)).numpy()
    assert [grid["values"][i, j] for i, j in index] == pytest.approx(expected, abs=1e-6)


def test_load_history_and_load_runs_give_a_notebook_what_it_needs(tiny_config, tmp_path):
    reference_models.train(tiny_config(model="vanilla", seed=0), tmp_path / "a", progress=False)
    frame = collapsekit.load_runs(tmp_path)
    assert frame.loc[0, "options"] == "" and frame.loc[0, "status"] == "finished"
    history = collapsekit.load_history(frame.loc[0, "run_dir"])
    assert history["step"].tolist() == [0, 20, 40]
    assert (
        history["mode_counts"].map(sum).tolist()
        == (history["high_quality_frac"] * 300).round().astype(int).tolist()
    )
    assert load_runs is collapsekit.load_runs and load_history is collapsekit.load_history
    with pytest.raises(RunFolderError, match="is not a folder"):
        load_history(tmp_path / "missing")
