import dataclasses
import io
import json

import numpy as np
import PIL.Image
import pytest
import torch
from click.testing import CliRunner

import collapsekit
import reference_models
from collapsekit.cli import main
from reference_models.conv_nets import ConvDiscriminator, ConvGenerator, resolution_steps
from reference_models.loop import image_grid_png
from reference_models.minibatch import MinibatchDiscriminator
from reference_models.nets import MLPDiscriminator, MLPGenerator
from reference_models.training import DEFAULTS

# The 2-D defaults as they were before image data existed (Metz et al. notebook).
METZ_DEFAULTS = dict(
    steps=25_000,
    eval_every=1_000,
    batch_size=512,
    z_dim=256,
    hidden=128,
    lr_generator=1e-3,
    lr_discriminator=1e-4,
    beta1=0.5,
    beta2=0.999,
    nets="mlp",
    generator_objective="non_saturating",
    updates="alternating",
    train_set_size=0,
    eval_batch_norm="running",
)


def invoke(*args):
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


@pytest.mark.parametrize(
    ("shape", "steps", "feature_dim"),
    [((3, 8, 8), 1, 16 * 4 * 4), ((3, 28, 28), 2, 32 * 7 * 7), ((1, 32, 32), 3, 64 * 4 * 4)],
)
def test_shapes_for_each_image_size(shape, steps, feature_dim):
    torch.manual_seed(0)
    generator, discriminator = ConvGenerator(12, shape, width=8), ConvDiscriminator(shape, width=8)
    assert resolution_steps(shape[1]) == steps
    images = generator(torch.randn(5, 12) * 10)  # large z: tanh saturates, never leaves [-1, 1]
    assert images.shape == (5, *shape)
    assert images.min() >= -1 and images.max() <= 1 and images.std() > 0
    assert discriminator.feature_dim == feature_dim
    assert discriminator.features(images).shape == (5, feature_dim)
    assert discriminator(images).shape == (5,)


def test_conv_nets_refuse_shapes_they_cannot_take():
    with pytest.raises(collapsekit.CollapsekitError, match=r"square images.*\(3, 8, 6\)"):
        ConvDiscriminator((3, 8, 6))
    with pytest.raises(collapsekit.CollapsekitError, match="MLP nets"):
        ConvGenerator(4, (2,))


def test_every_model_picks_conv_nets_and_image_defaults_on_images():
    for model in ("vanilla", "unrolled", "minibatch"):
        config = reference_models.TrainConfig(
            model=model, data="stacked-digits", hidden=8, batch_size=16, device="cpu"
        )
        trainer = reference_models.build_trainer(config)
        assert isinstance(trainer.generator, ConvGenerator)
        base = trainer.discriminator.base if model == "minibatch" else trainer.discriminator
        assert isinstance(base, ConvDiscriminator)
        assert isinstance(trainer.discriminator, MinibatchDiscriminator) == (model == "minibatch")
        assert config.hidden == 8  # given settings are kept, the rest filled in
        given = ("hidden", "batch_size")
        assert {k: getattr(config, k) for k in DEFAULTS["image"] if k not in given} == {
            k: v for k, v in DEFAULTS["image"].items() if k not in given
        }
        assert trainer.train_step().fake_logits.shape == (16,)


def test_vector_data_keep_the_mlp_and_the_metz_defaults():
    assert DEFAULTS["vector"] == METZ_DEFAULTS
    config = reference_models.TrainConfig(device="cpu")
    trainer = reference_models.build_trainer(config)
    assert isinstance(trainer.generator, MLPGenerator) and isinstance(
        trainer.discriminator, MLPDiscriminator
    )
    assert {k: getattr(config, k) for k in METZ_DEFAULTS} == METZ_DEFAULTS
    assert dataclasses.asdict(config)["z_dim"] == 256


def test_grid_png_places_each_image_as_rgb_tiles():
    images = torch.stack(
        [torch.full((3, 8, 8), -1.0), torch.full((3, 8, 8), 1.0), torch.zeros(3, 8, 8)]
    )
    images[2, 0] = 1.0  # red channel only -> (255, 128, 128)
    picture = PIL.Image.open(io.BytesIO(image_grid_png(images, rows=2)))
    assert picture.format == "PNG" and picture.size == (
        2 * 33 + 1,
        2 * 33 + 1,
    )  # 8x8 drawn at 32x32
    pixels = torch.from_numpy(np.array(picture.convert("RGB")))  # (H, W, 3)
    assert pixels[0, 0].tolist() == [255, 255, 255]  # gap
    assert pixels[1:33, 1:33].unique().tolist() == [0]  # image 0 black
    assert pixels[1:33, 34:66].unique().tolist() == [255]  # image 1 white
    assert pixels[34:66, 1:33].reshape(-1, 3).unique(dim=0).tolist() == [[255, 128, 128]]
    assert pixels[34:66, 34:66].unique().tolist() == [255]  # no fourth image: background


def test_unrolled_dry_run_on_stacked_digits_writes_decodable_grids(tmp_path):
    result = invoke(
        "run", "--model", "unrolled", "--data", "stacked-digits", "--dry-run", "--batch-size", "8",
        "--unroll-steps", "2", "--out", tmp_path, "--name", "u", "--no-progress", "--device", "cpu",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    run = tmp_path / "u"
    config = json.loads((run / "config.json").read_text())
    assert (
        config["z_dim"] == DEFAULTS["image"]["z_dim"]
        and config["hidden"] == DEFAULTS["image"]["hidden"]
    )
    assert config["steps"] == 20 and config["batch_size"] == 8
    grids = sorted(p.name for p in (run / "samples").iterdir())
    assert grids == ["step_00000000.png", "step_00000010.png", "step_00000020.png"]
    picture = PIL.Image.open(run / "samples" / "step_00000020.png")
    picture.load()
    assert picture.size == (8 * 33 + 1, 8 * 33 + 1)  # 8 x 8 images of 8x8 pixels, drawn 4x
    summary = json.loads((run / "summary.json").read_text())
    assert summary["status"] == "finished" and summary["metrics"]["modes_total"] == 1000


@pytest.mark.parametrize("model", ["vanilla", "minibatch"])
def test_vanilla_and_minibatch_run_on_stacked_digits(tmp_path, model):
    result = invoke(
        "run", "--model", model, "--data", "stacked-digits", "--steps", "3", "--eval-every", "3",
        "--eval-samples", "100", "--batch-size", "16", "--out", tmp_path, "--name", "r", "--no-progress",
        "--device", "cpu",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in (tmp_path / "r" / "samples").iterdir()) == [
        "step_00000000.png",
        "step_00000003.png",
    ]
    assert json.loads((tmp_path / "r" / "summary.json").read_text())["step"] == 3


def test_two_dimensional_runs_write_no_grids(tmp_path, tiny_config):
    summary = reference_models.train(
        tiny_config(steps=4, eval_every=2), tmp_path / "ring", progress=False
    )
    assert summary.status == "finished"
    assert not (tmp_path / "ring" / "samples").exists()
    assert json.loads((tmp_path / "ring" / "config.json").read_text())["lr_generator"] == 1e-3
