"""log_to(writer): rows as scalars and samples as an image, read back with TensorBoard's reader."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import collapsekit
from collapsekit.integrations.tensorboard import log_to, sample_image

tensorboard = pytest.importorskip("tensorboard")  # installed by the test extra
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator  # noqa: E402
from torch.utils.tensorboard import SummaryWriter  # noqa: E402

RING = collapsekit.get_dataset("ring8")


def read_events(folder) -> EventAccumulator:
    events = EventAccumulator(str(folder), size_guidance={"scalars": 0, "images": 0})
    events.Reload()
    return events


def test_every_history_row_becomes_scalars_and_the_samples_an_image(tmp_path):
    writer = SummaryWriter(tmp_path / "tb")
    monitor = collapsekit.Monitor("ring8", eval_every=10, on_metrics=log_to(writer, dataset=RING))
    for step in range(21):
        monitor.observe(step, torch.full((8,), 2.0), torch.full((8,), -2.0))
        monitor.evaluate(step, sample_fn=lambda n: RING.sample(n, torch.Generator().manual_seed(1)))
    writer.close()
    events = read_events(tmp_path / "tb")
    tags = events.Tags()["scalars"]
    history = monitor.history
    for key in ("modes_covered", "high_quality_frac", "d_real", "d_fake", "modes_reached"):
        assert f"collapsekit/{key}" in tags
        scalars = events.Scalars(f"collapsekit/{key}")
        assert [s.step for s in scalars] == [0, 10, 20]
        assert [s.value for s in scalars] == pytest.approx(history[key].tolist(), rel=1e-6)
    assert "collapsekit/mode_counts" not in tags and "collapsekit/step" not in tags
    images = events.Images("collapsekit/samples")
    assert [image.step for image in images] == [0, 10, 20]
    assert images[0].width == images[0].height == 320
    assert images[0].encoded_image_string.startswith(b"\x89PNG")


def test_sample_images_for_points_images_and_other_shapes():
    assert sample_image(np.zeros((5, 2)), RING).shape == (320, 320, 3)
    grid = sample_image(np.zeros((4, 1, 8, 8), dtype=np.float32))
    assert grid.dtype == np.uint8 and grid.shape == (10, 37, 3)  # 4 images of 8 px, 1 px padding
    assert grid[1, 1].tolist() == [128, 128, 128]  # 0 in [-1, 1] is mid grey
    assert sample_image(np.zeros((5, 3))) is None
