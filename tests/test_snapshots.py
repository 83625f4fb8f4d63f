"""What a run keeps in samples.npz: everything for 2-D points, a bounded number of images."""

from __future__ import annotations

import numpy as np
import torch

import collapsekit
from collapsekit.monitor.snapshots import FINAL_VALUES, SNAPSHOT_VALUES, SampleSnapshots, kept_count
from collapsekit.runs import RunDir


def test_kept_count_fits_the_budget():
    assert kept_count(2500, 2, FINAL_VALUES) == 2500  # 2-D: the whole evaluation
    assert kept_count(50_000, 2, SNAPSHOT_VALUES) == 50_000  # points are never cut
    assert kept_count(25_600, 3 * 28 * 28, FINAL_VALUES) == 27  # 65,536 // 2,352
    assert kept_count(25_600, 3 * 8 * 8, SNAPSHOT_VALUES) == 21  # 4,096 // 192
    assert kept_count(10, 10**6, SNAPSHOT_VALUES) == 1  # never nothing


def test_points_keep_snapshot_size_and_the_whole_final_set():
    snapshots = SampleSnapshots(snapshot_size=1000)
    values = np.arange(2500 * 2, dtype=np.float32).reshape(2500, 2)
    snapshots.add(500, values)
    assert snapshots.arrays["step_00000500"].shape == (1000, 2)
    assert np.array_equal(snapshots.arrays["final"], values)


def test_many_points_are_kept_as_asked():
    snapshots = SampleSnapshots(snapshot_size=5000)
    values = np.random.default_rng(0).random((50_000, 2), dtype=np.float32)
    snapshots.add(0, values)
    assert np.array_equal(snapshots.arrays["step_00000000"], values[:5000])
    assert np.array_equal(snapshots.arrays["final"], values)


def test_snapshots_read_back_are_cut_to_the_same_bounds():
    images = np.zeros((1000, 3, 28, 28), dtype=np.float32)  # as a run kept them before the bounds
    old = {"step_00000000": images, "final": images, "step_00000010": np.zeros((1000, 2))}
    snapshots = SampleSnapshots(1000, old)
    assert {name: len(array) for name, array in snapshots.arrays.items()} == {
        "step_00000000": 1, "final": 27, "step_00000010": 1000
    }


def test_images_keep_a_bounded_prefix():
    snapshots = SampleSnapshots(snapshot_size=1000)
    values = np.random.default_rng(0).random((2000, 3, 28, 28), dtype=np.float32)
    for step in (0, 100):
        snapshots.add(step, values)
    assert snapshots.arrays["step_00000100"].shape == (1, 3, 28, 28)  # 4,096 // 2,352
    assert np.array_equal(snapshots.arrays["final"], values[:27])
    assert snapshots.arrays["final"].base is None  # a copy: the big batch is not kept alive


def test_an_image_run_writes_a_small_samples_file(tmp_path):
    real = torch.rand(3000, 3, 28, 28) * 2 - 1
    monitor = collapsekit.Monitor(real, run_dir=tmp_path / "run", eval_every=10, num_samples=2000)
    for step in (0, 10, 20):
        monitor.evaluate(step, sample_fn=lambda n: torch.rand(n, 3, 28, 28) * 2 - 1)
    monitor.close()
    arrays = RunDir(tmp_path / "run").read_samples()
    assert sorted(arrays) == ["final", "step_00000000", "step_00000010", "step_00000020"]
    assert arrays["final"].shape == (27, 3, 28, 28)
    # Uncompressible noise: 3 snapshots of 1 and a final of 27 images, about 0.28 MB;
    # the whole evaluation would be 2000 x 2352 x 4 bytes = 18.8 MB.
    assert (tmp_path / "run" / "samples.npz").stat().st_size < 300_000
