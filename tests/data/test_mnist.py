"""stacked-mnist from local IDX files the tests write: reading, errors, classifier on first use, cache."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
from idx_files import idx_bytes, write_idx_files

import collapsekit.data.mnist as mnist
from collapsekit.data import get_dataset
from collapsekit.data.digits import source_digits
from collapsekit.data.idx import parse_idx
from collapsekit.errors import CollapsekitError


def fake_mnist() -> dict[str, tuple[torch.Tensor, torch.Tensor]]:
    """MNIST-shaped data from the 8x8 digits: upscaled 3x to 24x24, padded to 28x28, 0..255."""
    splits = {}
    for split, source in (("train", "train"), ("test", "held-out")):
        images, labels = source_digits(source)
        images = images.to(torch.float32).repeat_interleave(3, 1).repeat_interleave(3, 2)
        images = F.pad(images, (2, 2, 2, 2)) * (255 / 16)
        splits[split] = (images.round().to(torch.uint8), labels.to(torch.uint8))
    return splits


def write_mnist(folder: Path, gzipped: bool = False) -> Path:
    return write_idx_files(folder, fake_mnist(), gzipped)


@pytest.fixture(autouse=True)
def private_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("COLLAPSEKIT_CACHE", str(tmp_path / "cache"))
    mnist.load_mnist.cache_clear()


def test_reads_plain_and_gzipped_files_alike(tmp_path):
    plain = get_dataset(f"stacked-mnist:root={write_mnist(tmp_path / 'plain')}")
    zipped = get_dataset(f"stacked-mnist:root={write_mnist(tmp_path / 'zipped', gzipped=True)}")
    torchvision_layout = write_mnist(tmp_path / "tv" / "MNIST" / "raw", gzipped=True)
    nested = get_dataset(f"stacked-mnist:root={torchvision_layout.parent.parent}")
    first = plain.sample(50, torch.Generator().manual_seed(0))
    assert first.shape == (50, 3, 28, 28) and plain.modes_total == 1000
    assert torch.equal(first, zipped.sample(50, torch.Generator().manual_seed(0)))
    assert torch.equal(first, nested.sample(50, torch.Generator().manual_seed(0)))
    assert float(first.min()) == -1.0 and float(first.max()) == 1.0
    sums = mnist.load_mnist(str((tmp_path / "plain").resolve()))["sha256"]
    assert sums == mnist.load_mnist(str((tmp_path / "zipped").resolve()))["sha256"]
    images, labels = mnist.load_mnist(str((tmp_path / "plain").resolve()))["test"]
    assert torch.equal(images, fake_mnist()["test"][0]) and labels.dtype == torch.int64


def test_missing_files_are_named_with_the_expected_folder(tmp_path):
    folder = write_mnist(tmp_path / "m")
    (folder / "t10k-labels-idx1-ubyte").unlink()
    (folder / "train-images-idx3-ubyte").unlink()
    with pytest.raises(CollapsekitError) as error:
        get_dataset(f"stacked-mnist:root={folder}")
    message = str(error.value)
    assert "train-images-idx3-ubyte, t10k-labels-idx1-ubyte" in message and str(folder) in message
    assert "nothing is downloaded" in message
    with pytest.raises(CollapsekitError, match="root=PATH"):
        get_dataset("stacked-mnist")


@pytest.mark.parametrize("gzipped", [False, True])
def test_truncated_files_are_reported(tmp_path, gzipped):
    folder = write_mnist(tmp_path / "m", gzipped=gzipped)
    name = "train-images-idx3-ubyte" + (".gz" if gzipped else "")
    data = (folder / name).read_bytes()
    (folder / name).write_bytes(data[: len(data) // 2])
    with pytest.raises(CollapsekitError, match="truncated") as error:
        get_dataset(f"stacked-mnist:root={folder}")
    assert name in str(error.value)


def test_wrong_magic_number_is_reported(tmp_path):
    folder = write_mnist(tmp_path / "m")
    (folder / "train-labels-idx1-ubyte").write_bytes(b"<html>not found</html>")
    with pytest.raises(CollapsekitError, match="magic number 3c68746d.*00000801") as error:
        get_dataset(f"stacked-mnist:root={folder}")
    assert "train-labels-idx1-ubyte" in str(error.value)
    images_as_labels = (folder / "t10k-images-idx3-ubyte").read_bytes()
    (folder / "train-labels-idx1-ubyte").write_bytes(images_as_labels)
    with pytest.raises(CollapsekitError, match="00000803.*00000801"):
        get_dataset(f"stacked-mnist:root={folder}")


def test_image_and_label_counts_must_agree(tmp_path):
    folder = write_mnist(tmp_path / "m")
    labels = fake_mnist()["test"][1][:-5]
    (folder / "t10k-labels-idx1-ubyte").write_bytes(idx_bytes(labels))
    with pytest.raises(CollapsekitError, match="355 images but .* holds 350 labels"):
        get_dataset(f"stacked-mnist:root={folder}")


def test_parse_idx_known_answer():
    data = bytes([0, 0, 8, 3]) + b"".join(n.to_bytes(4, "big") for n in (2, 1, 3)) + bytes(range(6))
    assert parse_idx(data, Path("x"), 3).tolist() == [[[0, 1, 2]], [[3, 4, 5]]]


def test_classifier_is_trained_on_first_use_then_cached(tmp_path, monkeypatch):
    folder = write_mnist(tmp_path / "m", gzipped=True)
    data = get_dataset(f"stacked-mnist:root={folder},classifier_steps=200")
    samples, modes = data.sample_with_modes(600, torch.Generator().manual_seed(1))
    predicted, high_quality = data.assign(samples)
    # 200 steps on 1,442 upscaled 8x8 digits: about 88% per channel, 67% per triple; chance is 0.1%
    assert (predicted == modes).float().mean() > 0.55
    assert high_quality.float().mean() > 0.5
    cached = list((tmp_path / "cache" / "classifiers").glob("stacked-mnist-*.pt"))
    assert len(cached) == 1
    record = json.loads(cached[0].with_suffix(".json").read_text())
    assert record["held_out_accuracy"] > 0.8 and len(record["held_out_per_digit_accuracy"]) == 10

    def no_training(*args, **kwargs):
        raise AssertionError("the cached classifier should have been used")

    monkeypatch.setattr(mnist, "train_classifier", no_training)
    again = get_dataset(f"stacked-mnist:root={folder},classifier_steps=200")
    assert torch.equal(again.assign(samples)[0], predicted)
    assert again.classifier.checksum == data.classifier.checksum


def test_wrong_shape_for_stacked_mnist(tmp_path):
    data = get_dataset(f"stacked-mnist:root={write_mnist(tmp_path / 'm')}")
    with pytest.raises(CollapsekitError, match=r"\(N, 3, 28, 28\)"):
        data.assign(torch.zeros(2, 3, 8, 8))
