"""Protocols fill in exactly their documented values; explicit settings and flags win."""

import json

import pytest
import torch
from click.testing import CliRunner

import collapsekit
import reference_models
from collapsekit.cli import main
from reference_models import TrainConfig, apply_protocol, build_trainer
from reference_models.protocols import Protocol

# The values of PacGAN's code (synthetic_data_experiments/2DRing_GAN&PacGAN/config.py).
PACGAN_VALUES = dict(
    nets="pacgan-mlp", z_dim=2, hidden=400, batch_size=100, lr_generator=1e-4,
    lr_discriminator=1e-4, beta1=0.8, beta2=0.999, generator_objective="non_saturating",
    updates="simultaneous", train_set_size=100_000, steps=400_000, eval_every=10_000,
    eval_samples=2_500,
)  # fmt: skip
# The values of Metz et al.'s notebook (poolio/unrolled_gan).
VEEGAN_VALUES = dict(
    nets="mlp-tanh", z_dim=256, hidden=128, batch_size=512, lr_generator=1e-3,
    lr_discriminator=1e-4, beta1=0.5, beta2=0.999, generator_objective="saturating",
    updates="simultaneous", train_set_size=0, steps=25_000, eval_every=1_000, eval_samples=2_500,
)  # fmt: skip


@pytest.mark.parametrize(
    ("name", "values", "ring"),
    [
        ("pacgan", PACGAN_VALUES, "ring8:radius=1,std=0.01"),
        ("veegan", VEEGAN_VALUES, "ring8:radius=1,std=0.01"),
    ],
)
def test_a_protocol_fills_in_exactly_its_documented_values(name, values, ring):
    config = apply_protocol(TrainConfig(model="unrolled", data="ring8", protocol=name))
    assert {key: getattr(config, key) for key in values} == values
    assert config.data == ring
    assert apply_protocol(TrainConfig(data="grid25", protocol=name)).data == (
        "grid25:spacing=2,std=0.05"
    )
    dataset = collapsekit.get_dataset(config.data)
    assert dataset.modes_total == 8  # the notebook's 7-distinct-mode ring bug is not copied
    assert len({tuple(c) for c in dataset.centres.tolist()}) == 8
    assert config.options == ({"unroll_steps": 5} if name == "veegan" else {})


def test_explicit_settings_win_and_applying_twice_changes_nothing():
    config = TrainConfig(
        data="ring8:std=0.02", protocol="pacgan", batch_size=64, beta1=0.5, steps=10
    )
    apply_protocol(config)
    assert (config.batch_size, config.beta1, config.steps) == (64, 0.5, 10)
    assert config.data == "ring8:radius=1,std=0.02"  # the given std wins, radius from PacGAN
    before = dict(vars(config))
    assert vars(apply_protocol(config)) == before


def test_default_protocol_leaves_everything_to_the_data_defaults():
    config = build_trainer(TrainConfig(device="cpu")).config
    assert (config.protocol, config.data, config.nets, config.updates) == (
        "default", "ring8", "mlp", "alternating"
    )  # fmt: skip


def test_flags_override_the_protocol_and_config_json_records_every_resolved_value(tmp_path):
    args = ["run", "--protocol", "pacgan", "--model", "pacgan", "--pack", "3", "--data", "grid25"]
    args += ["--steps", "4", "--eval-every", "2", "--batch-size", "16", "--eval-samples", "200"]
    args += ["--out", str(tmp_path), "--name", "run", "--no-progress", "--device", "cpu"]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    config = json.loads((tmp_path / "run" / "config.json").read_text())
    expected = {**PACGAN_VALUES, "steps": 4, "eval_every": 2, "batch_size": 16, "eval_samples": 200}
    assert {key: config[key] for key in expected} == expected
    assert (config["protocol"], config["data"], config["options"]) == (
        "pacgan", "grid25:spacing=2,std=0.05", {"pack": 3}
    )  # fmt: skip


def test_protocols_are_listed_with_their_source_and_documented_in_run_help():
    listing = CliRunner().invoke(main, ["list"]).output
    assert "Protocols (--protocol NAME):" in listing
    for name in ("default", "metz", "pacgan", "veegan"):
        assert f"  {name} " in listing
    assert "fjxmlzn/PacGAN" in listing and "poolio/unrolled_gan" in listing
    assert "--protocol" in CliRunner().invoke(main, ["run", "--help"]).output


def test_registering_a_protocol_twice_is_refused_and_unknown_datasets_are_named():
    with pytest.raises(ValueError, match="already registered"):
        reference_models.register_protocol(Protocol(name="pacgan", source="x"))
    with pytest.raises(collapsekit.CollapsekitError, match="does not define dataset 'blob'"):
        apply_protocol(TrainConfig(data="blob", protocol="veegan"))


def test_the_metz_protocol_builds_the_weak_discriminator_of_pacgan_table_3():
    config = TrainConfig(model="pacgan", data="stacked-digits", protocol="metz", device="cpu")
    trainer = build_trainer(config)
    assert (config.nets, config.d_width, config.batch_size, config.z_dim) == (
        "metz",
        "quarter",
        128,
        256,
    )
    assert (config.lr_discriminator, config.lr_generator, config.beta2) == (2e-4, 1e-4, 0.99)
    assert (config.eval_samples, config.steps, config.options) == (25_600, 500_000, {"pack": 2})
    assert config.eval_batch_norm == "batch"
    convs = [m for m in trainer.discriminator.inner.modules() if isinstance(m, torch.nn.Conv2d)]
    assert [(c.in_channels, c.out_channels) for c in convs] == [(6, 2), (2, 4)]  # 8x8: 2 levels
    half = build_trainer(TrainConfig(data="stacked-digits", protocol="metz", d_width="half"))
    convs = [m for m in half.discriminator.modules() if isinstance(m, torch.nn.Conv2d)]
    assert [c.out_channels for c in convs] == [4, 8]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--protocol", "metz", "--data", "stacked-digits", "--d-width", "wide"],
         "d_width must be one of quarter, half, full, got 'wide'"),
        (["--d-width", "half"], "applies to the metz nets only"),
        (["--protocol", "metz"], "it covers: stacked-digits, stacked-fashion, stacked-mnist"),
    ],
)  # fmt: skip
def test_bad_d_width_and_data_exit_2(tmp_path, args, message):
    result = CliRunner().invoke(main, ["run", "--out", str(tmp_path / "runs"), *args])
    assert result.exit_code == 2 and message in result.output
    assert not (tmp_path / "runs").exists()


def test_batch_statistics_sampling_normalises_each_batch_and_keeps_running_statistics():
    trainer = build_trainer(TrainConfig(data="stacked-digits", protocol="metz", device="cpu"))
    trainer.train_step()
    sampler = trainer.sampler(256)
    buffers = {k: v.clone() for k, v in trainer.generator.named_buffers()}
    trainer.generator.eval()  # as the Monitor leaves it
    with torch.no_grad():
        samples = sampler(256)
        for name, value in trainer.generator.named_buffers():
            assert torch.equal(value, buffers[name])  # sampling left the running statistics alone
        assert not trainer.generator.training  # and the mode it found
        trainer.generator.train()
        by_hand = torch.cat([trainer.generator(z) for z in sampler.noise.split(128)])
    torch.testing.assert_close(samples, by_hand)
