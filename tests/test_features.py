"""Feature extractors by name; torch-fidelity networks only from local weights, never downloaded."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
import torch
import torch_fidelity.feature_extractor_inceptionv3 as inception_module
import torchvision
from torch_fidelity.feature_extractor_inceptionv3 import (
    URL_INCEPTION_V3,
    FeatureExtractorInceptionV3,
)

from collapsekit.atomic import atomic_write_bytes
from collapsekit.errors import CollapsekitError
from collapsekit.features import (
    FeatureExtractor,
    accepted_options,
    check_weights_file,
    get_feature_extractor,
    list_feature_extractors,
    register_feature_extractor,
    to_uint8_images,
)
from collapsekit.features.fidelity import TORCH_FIDELITY_NETWORKS


def save(path: Path, value: object) -> Path:
    buffer = io.BytesIO()
    torch.save(value, buffer)
    atomic_write_bytes(path, buffer.getvalue())
    return path


def test_identity_flattens_samples() -> None:
    samples = torch.arange(24.0).reshape(2, 3, 2, 2)
    features = get_feature_extractor("identity")(samples)
    assert features.shape == (2, 12)
    assert torch.equal(features, samples.reshape(2, 12))
    assert get_feature_extractor("identity").class_logits(samples) is None


def test_registry_round_trip_and_errors() -> None:
    register_feature_extractor(
        "test-doubling",
        lambda scale=2.0: FeatureExtractor("test-doubling", lambda x: scale * x, batch_size=3),
    )
    assert "test-doubling" in list_feature_extractors()
    extractor = get_feature_extractor("test-doubling", scale=3.0)
    assert torch.equal(extractor(torch.ones(7, 2)), torch.full((7, 2), 3.0))  # three batches joined
    with pytest.raises(ValueError, match="already registered"):
        register_feature_extractor("test-doubling", lambda: None)
    with pytest.raises(
        CollapsekitError, match="unknown feature extractor 'nope'; choose one of: .*identity"
    ):
        get_feature_extractor("nope")
    with pytest.raises(CollapsekitError, match="does not take these options"):
        get_feature_extractor("identity", weights="x.pth")
    assert accepted_options("test-doubling", scale=1.0, dataset=None, weights="w") == {"scale": 1.0}


def test_weights_urls_match_the_libraries() -> None:
    assert TORCH_FIDELITY_NETWORKS["inception-v3-compat"][2] == URL_INCEPTION_V3
    assert TORCH_FIDELITY_NETWORKS["vgg16"][2] == torchvision.models.VGG16_Weights.IMAGENET1K_V1.url


def test_missing_weights_say_how_to_get_them(tmp_path: Path) -> None:
    with pytest.raises(
        CollapsekitError, match="never downloads at run time; download it once with `curl"
    ):
        get_feature_extractor("inception-v3-compat")
    with pytest.raises(CollapsekitError, match="does not exist; download it once .*--weights"):
        get_feature_extractor("vgg16", weights=tmp_path / "vgg16.pth")


def test_weights_with_code_are_refused(tmp_path: Path) -> None:
    path = save(tmp_path / "evil.pth", {"layer": Path("/etc/passwd")})  # not a plain tensor dict
    with pytest.raises(CollapsekitError, match="is not a plain inception-v3-compat state dict"):
        check_weights_file("inception-v3-compat", path)


def test_uint8_conversion() -> None:
    images = torch.tensor([[[[-1.0, 0.0, 1.0, 3.0]]]])  # (1, 1, 1, 4) in [-1, 1], one out of range
    converted = to_uint8_images(images, (-1.0, 1.0))
    assert converted.shape == (1, 3, 1, 4) and converted.dtype == torch.uint8
    assert converted[0, 0, 0].tolist() == [0, 128, 255, 255]
    with pytest.raises(CollapsekitError, match=r"take \(N, 3, H, W\)"):
        to_uint8_images(torch.zeros(2, 4), (-1.0, 1.0))


def test_inception_from_local_weights_matches_the_network(tmp_path: Path, monkeypatch) -> None:
    def no_download(*args, **kwargs):
        raise AssertionError("tried to download weights")

    # a randomly initialised InceptionV3 stands in for the real weights (same layout)
    monkeypatch.setattr(inception_module, "load_state_dict_from_url", lambda *a, **k: {})
    monkeypatch.setattr(FeatureExtractorInceptionV3, "load_state_dict", lambda self, state: None)
    network = FeatureExtractorInceptionV3("inception-v3-compat", ["2048", "logits_unbiased"])
    monkeypatch.undo()
    monkeypatch.setattr(inception_module, "load_state_dict_from_url", no_download)
    path = save(tmp_path / "inception.pth", network.state_dict())
    extractor = get_feature_extractor(
        "inception-v3-compat", weights=path, device="cpu", batch_size=1
    )
    images = torch.rand(2, 3, 16, 16, generator=torch.Generator().manual_seed(0)) * 2 - 1
    features, logits = extractor(images), extractor.class_logits(images)
    assert features.shape == (2, 2048) and logits.shape == (2, 1008)
    expected = network(to_uint8_images(images, (-1.0, 1.0)))
    assert torch.allclose(features, expected[0], rtol=1e-5, atol=1e-6)
    assert torch.allclose(logits, expected[1], rtol=1e-5, atol=1e-5)
