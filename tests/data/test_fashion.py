"""stacked-fashion: reading gzipped IDX files, the missing-files error, real-vs-real coverage."""

from __future__ import annotations

import pytest
import torch
from click.testing import CliRunner
from idx_files import write_idx_files

import collapsekit.data.fashion as fashion
from collapsekit.cli import main
from collapsekit.data import get_dataset
from collapsekit.data.digits import to_unit_range
from collapsekit.errors import CollapsekitError
from collapsekit.metrics import keys, mode_metrics
from collapsekit.samples_io import save_samples


def small_fashion() -> dict[str, tuple[torch.Tensor, torch.Tensor]]:
    """Twenty 28x28 training and ten test images (uint8), two per class, with distinct pixels."""
    splits = {}
    for split, count, seed in (("train", 20, 0), ("test", 10, 1)):
        images = torch.randint(
            0, 256, (count, 28, 28), generator=torch.Generator().manual_seed(seed)
        )
        splits[split] = (images.to(torch.uint8), (torch.arange(count) % 10).to(torch.uint8))
    return splits


@pytest.fixture(autouse=True)
def fresh_cache():
    fashion.load_fashion_mnist.cache_clear()
    yield
    fashion.load_fashion_mnist.cache_clear()


def test_reads_gzipped_idx_files_from_root(tmp_path):
    written = small_fashion()
    folder = write_idx_files(tmp_path / "fashion", written, gzipped=True)
    loaded = fashion.load_fashion_mnist(str(folder))
    for split in ("train", "test"):
        assert torch.equal(loaded[split][0], written[split][0])
        assert torch.equal(loaded[split][1], written[split][1].long())
    data = get_dataset(f"stacked-fashion:root={folder},split=test")
    assert data.sample_shape == (3, 28, 28) and data.modes_total == 1000
    assert data.spec == f"stacked-fashion:root={folder},split=test,min_confidence=0.5"
    samples, modes = data.sample_with_modes(50, torch.Generator().manual_seed(0))
    source = to_unit_range(written["test"][0], 255.0)  # (10, 28, 28), image i has class i
    for channel, place in enumerate((100, 10, 1)):
        assert torch.equal(samples[:, channel], source[modes // place % 10])


def test_missing_files_are_one_line_saying_how_to_get_them(tmp_path, monkeypatch):
    with pytest.raises(CollapsekitError) as error:
        get_dataset(f"stacked-fashion:root={tmp_path}")
    message = str(error.value)
    assert "\n" not in message and str(tmp_path) in message
    assert "train-images-idx3-ubyte, train-labels-idx1-ubyte" in message
    assert "apt-get install dataset-fashion-mnist" in message and "root=PATH" in message
    monkeypatch.setattr(fashion, "FASHION_MNIST_FOLDER", tmp_path / "not-installed")
    with pytest.raises(CollapsekitError, match="apt-get install dataset-fashion-mnist"):
        get_dataset("stacked-fashion")
    assert not fashion.fashion_available()


def test_cli_reports_missing_files_with_exit_code_2(tmp_path):
    path = tmp_path / "samples.npy"
    save_samples(path, torch.zeros(4, 3, 28, 28))
    result = CliRunner().invoke(
        main, ["evaluate", str(path), "--data", f"stacked-fashion:root={tmp_path / 'none'}"]
    )
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and "apt-get install dataset-fashion-mnist" in lines[0]


def test_real_stacked_fashion_covers_the_modes_uniformly(fashion_mnist_files):
    data = get_dataset("stacked-fashion")
    samples, modes = data.sample_with_modes(25600, torch.Generator().manual_seed(0))
    result = mode_metrics(samples, data)
    assert result[keys.MODES_CAPTURED] >= 950
    assert result[keys.MODE_KL] <= 0.1
    assert result[keys.HIGH_QUALITY_FRAC] >= 0.8
    predicted, _ = data.assign(samples[:2000])
    per_channel = [
        (predicted // p % 10 == modes[:2000] // p % 10).float().mean() for p in (100, 10, 1)
    ]
    assert min(per_channel) > 0.85  # the classifier's test accuracy is 0.88 to 0.91
