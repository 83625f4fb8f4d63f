"""The shipped stacked-fashion classifier: checksum, stated accuracy, the "not an item" class."""

from __future__ import annotations

import hashlib
import json

import pytest
import torch

from collapsekit.classifier import (
    FASHION_WEIGHTS,
    held_out_accuracy,
    load_classifier,
    load_fashion_classifier,
)
from collapsekit.data.digits import to_unit_range
from collapsekit.data.fashion import FASHION_CLASSES, load_fashion_mnist


def shipped_record() -> dict:
    return json.loads(FASHION_WEIGHTS.with_suffix(".json").read_text())


def test_shipped_weights_are_small_and_match_their_checksum():
    data = FASHION_WEIGHTS.read_bytes()
    record = shipped_record()
    assert len(data) < 300_000
    assert hashlib.sha256(data).hexdigest() == record["sha256"]
    assert record["classes"] == list(FASHION_CLASSES) and record["held_out_images"] == 10000
    classifier = load_fashion_classifier()
    assert classifier.checksum == record["sha256"] and classifier.image_size == 28


def test_accuracy_on_the_test_images_is_as_stated(fashion_mnist_files):
    record = shipped_record()
    images, labels = load_fashion_mnist()["test"]
    model = load_classifier(FASHION_WEIGHTS, record["sha256"])
    accuracy, per_class = held_out_accuracy(model, to_unit_range(images, 255.0), labels)
    assert accuracy == pytest.approx(record["held_out_accuracy"], abs=1e-9)
    assert per_class.tolist() == pytest.approx(record["held_out_per_class_accuracy"], abs=1e-5)
    assert accuracy >= 0.88


def test_noise_and_blank_channels_are_not_items():
    generator = torch.Generator().manual_seed(0)
    noise = torch.rand(200, 3, 28, 28, generator=generator) * 2 - 1
    blank = -torch.ones(200, 3, 28, 28)
    for images in (noise, blank):
        _, confidence = load_fashion_classifier().predict(images)  # (200, 3)
        assert float((confidence.min(dim=1).values >= 0.5).float().mean()) < 0.01
