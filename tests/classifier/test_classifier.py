"""The per-channel digit classifier: shipped weights, checksums, triple outputs, training, cache."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pytest
import torch

from collapsekit.classifier import (
    DIGITS_WEIGHTS,
    Architecture,
    DigitClassifier,
    ModeClassifier,
    TrainingConfig,
    architecture_for,
    cache_folder,
    cached_classifier,
    load_classifier,
    load_digits_classifier,
    logits_to_modes,
    logits_to_triple_logits,
    per_digit_accuracy,
    save_classifier,
    train_classifier,
)
from collapsekit.classifier.training import augment, not_digits
from collapsekit.data.digits import source_digits, to_unit_range
from collapsekit.errors import CollapsekitError


def test_shipped_weights_are_small_checksummed_and_accurate_as_stated():
    record = json.loads(DIGITS_WEIGHTS.with_suffix(".json").read_text())
    data = DIGITS_WEIGHTS.read_bytes()
    assert len(data) < 1_000_000
    assert hashlib.sha256(data).hexdigest() == record["sha256"]
    images, labels = source_digits("held-out")
    model = load_classifier(DIGITS_WEIGHTS, record["sha256"])
    per_digit = per_digit_accuracy(model, to_unit_range(images, 16.0), labels)
    counts = torch.bincount(labels, minlength=10).double()
    measured = float((per_digit * counts).sum() / counts.sum())
    assert measured == pytest.approx(record["held_out_accuracy"], abs=1e-9)
    assert measured >= 0.98
    assert per_digit.tolist() == pytest.approx(record["held_out_per_digit_accuracy"], abs=1e-5)


def test_weights_failing_their_checksum_are_refused(tmp_path):
    copy = tmp_path / DIGITS_WEIGHTS.name
    shutil.copy(DIGITS_WEIGHTS, copy)
    shutil.copy(DIGITS_WEIGHTS.with_suffix(".json"), copy.with_suffix(".json"))
    data = bytearray(copy.read_bytes())
    data[len(data) // 2] ^= 0xFF
    copy.write_bytes(bytes(data))
    with pytest.raises(CollapsekitError, match="fail their checksum") as error:
        load_digits_classifier(str(copy))
    assert str(copy) in str(error.value) and "train_mode_classifier.py" in str(error.value)


def test_weights_file_with_pickled_code_is_refused_by_weights_only(tmp_path):
    path = tmp_path / "evil.pt"
    torch.save({"architecture": {"image_size": 8}, "state_dict": {}, "metadata": Path("x")}, path)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    with pytest.raises(CollapsekitError, match="not a digit classifier"):
        load_classifier(path, digest)


def test_missing_checksum_record_names_the_file(tmp_path):
    copy = tmp_path / "weights.pt"
    shutil.copy(DIGITS_WEIGHTS, copy)
    with pytest.raises(CollapsekitError, match="weights.json"):
        load_digits_classifier(str(copy))


def test_logits_to_modes_reads_digits_in_channel_order():
    logits = torch.full((2, 3, 11), -5.0)
    logits[0, 0, 1] = logits[0, 1, 2] = logits[0, 2, 3] = 5.0  # digits 1, 2, 3
    logits[1, 0, 9] = logits[1, 1, 0] = logits[1, 2, 7] = 5.0  # digits 9, 0, 7
    mode, confidence = logits_to_modes(logits)
    assert mode.tolist() == [123, 907]
    big, small = torch.tensor(5.0).exp(), torch.tensor(-5.0).exp()
    assert torch.allclose(confidence, (big / (big + 10 * small)).expand(2, 3))


def test_not_a_digit_lowers_confidence_but_never_names_a_mode():
    logits = torch.zeros(1, 3, 11)
    logits[0, :, 6] = 2.0  # every channel leans to digit 6 ...
    logits[0, 2, 10] = 6.0  # ... but channel 2 is mostly "not a digit"
    mode, confidence = logits_to_modes(logits)
    assert mode.tolist() == [666]
    e2, e6 = torch.tensor(2.0).exp(), torch.tensor(6.0).exp()
    expected = [float(e2 / (e2 + 10)), float(e2 / (e2 + 10)), float(e2 / (e2 + 9 + e6))]
    assert confidence[0].tolist() == pytest.approx(expected, rel=1e-6)


def test_triple_logits_are_the_log_product_of_channel_digit_softmaxes():
    logits = torch.randn(4, 3, 11, generator=torch.Generator().manual_seed(0))
    p = logits[:, :, :10].softmax(dim=2)  # "not a digit" left out
    product = torch.einsum("ni,nj,nk->nijk", p[:, 0], p[:, 1], p[:, 2]).reshape(4, 1000)
    triple = logits_to_triple_logits(logits)
    assert torch.allclose(triple.exp(), product, atol=1e-7)
    assert torch.allclose(triple.softmax(dim=1), product, atol=1e-7)  # valid logits for IS
    assert torch.allclose(triple.exp().sum(dim=1), torch.ones(4))
    expected = p[2, 0, 4].log() + p[2, 1, 0].log() + p[2, 2, 5].log()
    assert float(triple[2, 405]) == pytest.approx(float(expected))
    with pytest.raises(CollapsekitError, match=r"\(N, 3, 11\)"):
        logits_to_triple_logits(torch.zeros(4, 3, 10))


def test_features_concatenate_channels_and_ignore_batch_size():
    classifier = load_digits_classifier()
    images = torch.rand(10, 3, 8, 8, generator=torch.Generator().manual_seed(1)) * 2 - 1
    features, logits = classifier.features_and_logits(images)
    assert features.shape == (10, 3 * 128) and logits.shape == (10, 3, 11)
    swapped, _ = classifier.features_and_logits(images[:, [2, 0, 1]])
    assert torch.allclose(swapped[:, :128], features[:, 256:], atol=1e-5)
    small = ModeClassifier(classifier.model, device="cpu", batch_size=7)
    assert torch.allclose(small.features(images), features, atol=1e-5)
    assert torch.equal(small.predict(images)[0], classifier.predict(images)[0])


def test_classifier_rejects_images_of_the_wrong_shape():
    with pytest.raises(CollapsekitError, match=r"\(N, 3, 8, 8\)"):
        load_digits_classifier().predict(torch.zeros(2, 1, 8, 8))


def test_training_is_deterministic_for_a_seed_and_changes_with_it():
    images, labels = source_digits("held-out")
    images = to_unit_range(images, 16.0)
    config = TrainingConfig(steps=5, batch_size=16)
    torch.manual_seed(123)
    first = train_classifier(images, labels, architecture_for(8), config).state_dict()
    after_training = torch.rand(3)
    torch.manual_seed(123)
    assert torch.equal(after_training, torch.rand(3))  # the caller's random state is untouched
    second = train_classifier(images, labels, architecture_for(8), config).state_dict()
    third = train_classifier(
        images, labels, architecture_for(8), TrainingConfig(steps=5, batch_size=16, seed=1)
    ).state_dict()
    assert all(torch.equal(first[k], second[k]) for k in first)
    assert not torch.equal(first["head.weight"], third["head.weight"])


def test_augment_shifts_by_whole_pixels_and_pads_with_background():
    image = torch.full((1, 8, 8), -1.0)
    image[0, 3, 4] = 1.0
    config = TrainingConfig(max_shift=1, noise_std=0.0)
    shifted = augment(image.repeat(200, 1, 1), config, torch.Generator().manual_seed(0))
    rows, columns = (shifted == 1.0).nonzero()[:, 1], (shifted == 1.0).nonzero()[:, 2]
    assert rows.unique().tolist() == [2, 3, 4] and columns.unique().tolist() == [3, 4, 5]
    assert int((shifted == 1.0).sum()) == 200  # every copy keeps its one bright pixel
    unchanged = augment(image, TrainingConfig(max_shift=0, noise_std=0.0), torch.Generator())
    assert torch.equal(unchanged, image)


def test_not_digits_are_in_range_and_of_five_kinds():
    images, labels = source_digits("held-out")
    images = to_unit_range(images, 16.0)
    made = not_digits(images, labels, 10, torch.Generator().manual_seed(0))
    assert made.shape == (10, 8, 8) and made.min() >= -1 and made.max() <= 1
    assert torch.unique(made[2]).numel() == 1 and torch.unique(made[7]).numel() == 1  # flat
    sorted_real = images.flatten(1).sort(dim=1).values  # (355, 64)
    assert (sorted_real == made[3].flatten().sort().values).all(dim=1).any()  # shuffled digit
    matches = (made.flatten(1)[:, None] == images.flatten(1)[None]).all(dim=2)  # (10, 355)
    assert not matches.any()  # none is a real digit


def test_shipped_classifier_rejects_noise_and_blank_channels():
    data_real, _ = source_digits("held-out")
    real = to_unit_range(data_real, 16.0)[:354].reshape(118, 3, 8, 8)
    noise = torch.rand(500, 3, 8, 8, generator=torch.Generator().manual_seed(0)) * 2 - 1
    blank = torch.full((5, 3, 8, 8), -1.0)
    classifier = load_digits_classifier()
    confident = {
        name: float((classifier.predict(images)[1].min(dim=1).values >= 0.5).float().mean())
        for name, images in (("real", real), ("noise", noise), ("blank", blank))
    }
    assert confident["real"] > 0.95
    assert confident["noise"] < 0.05 and confident["blank"] == 0.0


def test_saving_the_same_model_twice_gives_the_same_bytes(tmp_path):
    model = DigitClassifier(Architecture(image_size=8))
    first = save_classifier(model, tmp_path / "a.pt", {"note": "x"})
    second = save_classifier(model, tmp_path / "b.pt", {"note": "x"})
    assert first == second
    assert json.loads((tmp_path / "a.json").read_text())["sha256"] == first
    loaded = load_classifier(tmp_path / "a.pt", first)
    assert all(torch.equal(v, loaded.state_dict()[k]) for k, v in model.state_dict().items())


def test_cache_folder_prefers_collapsekit_cache_then_xdg(monkeypatch, tmp_path):
    monkeypatch.setenv("COLLAPSEKIT_CACHE", str(tmp_path / "own"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cache_folder() == tmp_path / "own"
    monkeypatch.delenv("COLLAPSEKIT_CACHE")
    assert cache_folder() == tmp_path / "xdg" / "collapsekit"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert cache_folder() == tmp_path / "home" / ".cache" / "collapsekit"


def test_cached_classifier_trains_once_and_retrains_a_corrupt_cache(tmp_path):
    calls = []

    def train():
        calls.append(1)
        return DigitClassifier(Architecture(image_size=8)), {"accuracy": 0.5}

    first = cached_classifier("key", train, folder=tmp_path)
    second = cached_classifier("key", train, folder=tmp_path)
    assert len(calls) == 1 and first.checksum == second.checksum
    (tmp_path / "key.pt").write_bytes(b"garbage")
    cached_classifier("key", train, folder=tmp_path)
    assert len(calls) == 2
