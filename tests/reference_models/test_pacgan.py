"""PacGAN: D reads m samples concatenated in order; G and its samples are the GAN's."""

import pytest
import torch
from click.testing import CliRunner

import collapsekit
import reference_models
from collapsekit.cli import main
from reference_models.pacgan import PackedDiscriminator, pack
from reference_models.pacgan_nets import MaxoutDiscriminator, PacGANGenerator
from reference_models.train_set import FixedTrainingSet


class Recorder(torch.nn.Module):
    """A discriminator that keeps its last input and scores it by its first feature."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.seen = x.clone()
        return x.flatten(1)[:, 0]


def test_discriminator_input_for_m_3_is_the_three_samples_concatenated_in_order():
    samples = torch.arange(12.0).view(6, 2)  # slot 0: rows 0-1, slot 1: rows 2-3, slot 2: rows 4-5
    recorder = Recorder()
    logits = PackedDiscriminator(recorder, slots=3)(samples)
    expected = torch.tensor([[0.0, 1, 4, 5, 8, 9], [2, 3, 6, 7, 10, 11]])
    assert torch.equal(recorder.seen, expected) and logits.shape == (2,)
    images = torch.arange(6 * 2 * 4 * 4.0).view(6, 2, 4, 4)
    packed = pack(images, 3)  # images join along channels
    assert packed.shape == (2, 6, 4, 4)
    assert torch.equal(packed[1, 2:4], images[3]) and torch.equal(packed[0, 4:6], images[4])


def test_pacgan_feeds_d_packed_batches_and_leaves_g_and_its_samples_unchanged(tiny_config):
    pac = reference_models.build_trainer(tiny_config(model="pacgan", options={"pack": 3}))
    gan = reference_models.build_trainer(tiny_config(model="vanilla"))
    assert pac.config.options == {"pack": 3}
    for ours, theirs in zip(pac.generator.parameters(), gan.generator.parameters(), strict=True):
        assert torch.equal(ours, theirs)  # same seed, same G: nothing about G changes
    first = pac.discriminator.inner.body[0]
    assert first.in_features == 3 * 2  # D reads 3 points of 2 dims
    z = torch.randn(12, pac.config.z_dim)
    assert torch.equal(pac.generate(z), gan.generate(z))  # per-slot G = one G call (no BN)
    assert pac.noise(8).shape == (24, pac.config.z_dim)
    assert pac.real_batch(8).shape == (24, 2)
    result = pac.train_step()
    assert result.real_logits.shape == (pac.config.batch_size,)
    sample = pac.sampler(10)(10)  # evaluation samples come from G alone: 10 points of 2 dims
    assert sample.shape == (10, 2)


def test_pack_one_is_the_gan(tiny_config):
    pac = reference_models.build_trainer(tiny_config(model="pacgan", options={"pack": 1}))
    gan = reference_models.build_trainer(tiny_config(model="vanilla"))
    for _ in range(3):
        ours, theirs = pac.train_step(), gan.train_step()
    assert torch.equal(ours.fake_logits, theirs.fake_logits)


def test_pacgan_packs_images_along_channels():
    config = reference_models.TrainConfig(
        model="pacgan", data="stacked-digits", hidden=4, batch_size=4, device="cpu"
    )
    trainer = reference_models.build_trainer(config)
    assert trainer.discriminator.inner.body[0].in_channels == 2 * 3
    assert trainer.train_step().fake_logits.shape == (4,)


def test_pacgan_nets_have_the_codes_shapes_and_init():
    torch.manual_seed(0)
    generator, discriminator = PacGANGenerator(2, 2), MaxoutDiscriminator(input_dim=4)
    linears = [m for m in generator.net if isinstance(m, torch.nn.Linear)]
    assert [(m.in_features, m.out_features, m.bias is not None) for m in linears] == [
        (2, 400, False), (400, 400, False), (400, 400, False), (400, 400, False), (400, 2, True)
    ]
    assert [m.linear.out_features for m in discriminator.body] == [1000, 1000, 1000]
    weights = torch.cat([m.weight.flatten() for m in linears])
    assert weights.std().item() == pytest.approx(0.02, rel=0.02)  # N(0, 0.02^2)
    x = torch.randn(5, 4)
    pieces = discriminator.body[0].linear(x).view(5, 200, 5)
    torch.testing.assert_close(discriminator.body[0](x), pieces.max(dim=2).values)


def test_fixed_training_set_serves_epochs_of_the_same_points():
    dataset = collapsekit.get_dataset("ring8")
    data = FixedTrainingSet(dataset, size=50, slots=2, seed=0)
    rng = torch.Generator().manual_seed(0)
    epoch = torch.cat([data.batch(10, rng).view(2, 10, 2) for _ in range(5)], dim=1)  # (2, 50, 2)
    expected = data.points[data.rows.T]  # (2, 50, 2): every row exactly once per epoch
    seen = {tuple(row) for row in torch.cat(list(epoch), dim=1).tolist()}
    assert seen == {tuple(row) for row in torch.cat(list(expected), dim=1).tolist()}
    again = FixedTrainingSet(dataset, size=50, slots=2, seed=0)
    assert torch.equal(again.points, data.points) and torch.equal(again.rows, data.rows)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--pack", "0", "--model", "pacgan"], "pack must be a positive integer, got 0"),
        (["--pack", "1.5", "--model", "pacgan"], "'1.5' is not a valid integer"),
        (["--pack", "2", "--model", "vanilla"], "--pack applies to pacgan only"),
        (["--protocol", "nope"], "unknown protocol 'nope'; choose one of: default, metz, pacgan, veegan"),
        (["--protocol", "pacgan", "--data", "stacked-digits"], "it covers: ring8, grid25"),
    ],
)
def test_bad_pacgan_and_protocol_flags_exit_2_and_write_nothing(tmp_path, args, message):
    result = CliRunner().invoke(main, ["run", "--out", str(tmp_path / "runs"), *args])
    assert result.exit_code == 2 and message in result.output
    assert not (tmp_path / "runs").exists()


def test_a_pacgan_protocol_run_resumes_to_the_uninterrupted_result(tmp_path, monkeypatch):
    """Simultaneous updates, batch norm in G and the fixed training set's epoch all resume."""
    from reference_models.training import GANTrainer

    def config():
        return reference_models.TrainConfig(
            model="pacgan", protocol="pacgan", data="ring8", steps=30, eval_every=10,
            eval_samples=200, train_set_size=500, batch_size=40, device="cpu",
        )  # fmt: skip

    whole = reference_models.train(config(), tmp_path / "whole", progress=False)
    original = GANTrainer.train_step

    def interrupt_at_step_25(self):
        if self.step == 25:
            raise KeyboardInterrupt
        return original(self)

    monkeypatch.setattr(GANTrainer, "train_step", interrupt_at_step_25)
    with pytest.raises(KeyboardInterrupt):
        reference_models.train(config(), tmp_path / "cut", progress=False)
    monkeypatch.setattr(GANTrainer, "train_step", original)
    resumed = reference_models.resume(tmp_path / "cut", progress=False)
    assert resumed.status == "finished" and resumed.step == 30
    for key in ("modes_captured", "high_quality_frac", "d_real", "d_fake"):
        assert resumed.metrics[key] == whole.metrics[key]
