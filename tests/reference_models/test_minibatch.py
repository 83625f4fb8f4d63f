import math

import pytest
import torch
from torch import nn

import collapsekit
import reference_models
from reference_models import closeness, minibatch
from reference_models.minibatch import MinibatchDiscrimination, MinibatchDiscriminator, MinibatchGAN
from reference_models.nets import MLPDiscriminator


def layer(in_features=6, kernels=7, kernel_dim=3, seed=0) -> MinibatchDiscrimination:
    torch.manual_seed(seed)
    return MinibatchDiscrimination(in_features, kernels, kernel_dim).double()


def by_the_formula(module: MinibatchDiscrimination, features: torch.Tensor) -> torch.Tensor:
    """o(x_i)_b = sum over j != i of exp(-||M_i,b - M_j,b||_1), M_i = f(x_i) T, with explicit loops."""
    matrices = torch.einsum("na,abc->nbc", features, module.weight())  # (N, B, C)
    size, kernels = features.shape[0], module.kernels
    expected = torch.zeros(size, kernels, dtype=features.dtype)
    for i in range(size):
        for j in range(size):
            if j != i:
                expected[i] += torch.exp(-(matrices[i] - matrices[j]).abs().sum(dim=1))
    return expected + module.bias  # (N, B)


def test_layer_matches_the_formula_of_the_paper(monkeypatch):
    module = layer()
    features = torch.randn(9, 6, dtype=torch.float64)
    expected = by_the_formula(module, features)
    torch.testing.assert_close(module(features), expected, rtol=1e-12, atol=1e-12)
    monkeypatch.setattr(minibatch, "CHUNK_PAIRS", 9 * 9 * 2)  # two kernels at a time
    torch.testing.assert_close(module(features), expected, rtol=1e-12, atol=1e-12)


def test_gradients_equal_autograd_through_the_formula(monkeypatch):
    """The hand-written backward (cdist's) against autograd through explicit differences."""
    module = layer()
    features = torch.randn(9, 6, dtype=torch.float64, requires_grad=True)
    upstream = torch.randn(9, 7, dtype=torch.float64)
    wanted = torch.autograd.grad(
        by_the_formula(module, features), (features, module.theta), upstream
    )
    for chunk_pairs in (minibatch.CHUNK_PAIRS, 9 * 9 * 2):  # all kernels; two at a time
        monkeypatch.setattr(minibatch, "CHUNK_PAIRS", chunk_pairs)
        got = torch.autograd.grad(module(features), (features, module.theta), upstream)
        for ours, theirs in zip(got, wanted, strict=True):
            torch.testing.assert_close(ours, theirs, rtol=1e-10, atol=1e-12)


def test_closeness_sums_pass_gradcheck():
    per_kernel = torch.randn(3, 6, 4, dtype=torch.float64, requires_grad=True)  # (b, N, C)
    assert torch.autograd.gradcheck(closeness.ClosenessSums.apply, (per_kernel,))


def test_kernel_defaults_follow_the_kind_of_data():
    assert MinibatchGAN.resolve_options({}, "image") == {"kernels": 100, "kernel_dim": 5}
    assert MinibatchGAN.resolve_options({}, "vector") == {"kernels": 5, "kernel_dim": 5}
    assert MinibatchGAN.resolve_options({"kernels": 100}, "vector")["kernels"] == 100
    assert MinibatchGAN.resolve_options({})["kernels"] == 100  # kind unknown: the code's


def test_shapes_and_parameter_sizes():
    module = layer(in_features=6, kernels=7, kernel_dim=3)
    assert module.theta.shape == (6, 7, 3)  # T in R^{A x B x C}
    assert module(torch.randn(5, 6, dtype=torch.float64)).shape == (5, 7)
    assert module(torch.randn(5, 2, 3, dtype=torch.float64)).shape == (
        5,
        7,
    )  # features are flattened
    defaults = MinibatchDiscrimination(16)
    assert (defaults.kernels, defaults.kernel_dim) == (100, 5)


def test_a_sample_is_not_compared_with_itself():
    module = layer()
    alone = module.closeness_sums(torch.randn(1, 6, dtype=torch.float64))
    assert torch.equal(alone, torch.zeros(1, 7, dtype=torch.float64))  # no other sample: o = 0
    pair = torch.randn(2, 6, dtype=torch.float64)
    matrices = torch.einsum("na,abc->nbc", pair, module.weight())  # (2, B, C)
    closeness = torch.exp(-(matrices[0] - matrices[1]).abs().sum(dim=1))  # (B,)
    torch.testing.assert_close(
        module(pair), torch.stack([closeness, closeness]) - 1.0
    )  # not 1 + closeness; the bias starts at -1


def test_identical_samples_give_n_minus_one_per_kernel():
    module = layer()
    batch = torch.randn(1, 6, dtype=torch.float64).expand(10, 6)
    # ||M_i - M_j||_1 = 0 for every pair, so each of the 9 others adds exp(0) = 1.
    torch.testing.assert_close(
        module.closeness_sums(batch), torch.full((10, 7), 9.0, dtype=torch.float64)
    )


def test_output_is_equivariant_to_permuting_the_batch():
    module = layer()
    features = torch.randn(8, 6, dtype=torch.float64)
    order = torch.randperm(8, generator=torch.Generator().manual_seed(1))
    torch.testing.assert_close(
        module(features[order]), module(features)[order], rtol=1e-12, atol=1e-12
    )


def test_output_for_a_sample_depends_on_the_rest_of_the_batch():
    module = layer()
    sample = torch.randn(1, 6, dtype=torch.float64)
    first = module(torch.cat([sample, torch.randn(5, 6, dtype=torch.float64)]))[0]
    second = module(torch.cat([sample, torch.randn(5, 6, dtype=torch.float64)]))[0]
    assert (first - second).abs().max() > 1e-3


def test_gradients_reach_the_tensor_and_the_features():
    module = layer()
    features = torch.randn(8, 6, dtype=torch.float64, requires_grad=True)
    module(features).sum().backward()
    assert torch.isfinite(module.theta.grad).all() and module.theta.grad.abs().sum() > 0
    assert torch.isfinite(features.grad).all() and features.grad.abs().sum() > 0


def mean_nearest_distance(module: MinibatchDiscrimination, features: torch.Tensor) -> torch.Tensor:
    matrices = torch.einsum("na,abc->bnc", features, module.weight())  # (B, N, C)
    distances = (matrices.unsqueeze(2) - matrices.unsqueeze(1)).abs().sum(dim=3)  # (B, N, N)
    distances = distances + torch.diag(
        torch.full((features.shape[0],), float("inf"), dtype=features.dtype)
    )
    return distances.min(dim=2).values.mean(dim=1)  # (B,)


def test_initialisation_puts_the_mean_nearest_neighbour_at_distance_two_and_centres_f():
    module = layer()
    features = torch.randn(12, 6, dtype=torch.float64)
    before = mean_nearest_distance(module, features)
    scale = module.initialise(features)
    torch.testing.assert_close(scale, before / 2.0)
    torch.testing.assert_close(
        mean_nearest_distance(module, features), torch.full((7,), 2.0, dtype=torch.float64)
    )
    torch.testing.assert_close(  # centred: f has mean 0 over the batch it was initialised on
        module(features).mean(dim=0), torch.zeros(7, dtype=torch.float64), atol=1e-12, rtol=0
    )
    same = layer()
    log_scale = same.log_weight_scale.clone()
    assert torch.equal(
        same.initialise(torch.ones(4, 6, dtype=torch.float64)), torch.ones(7, dtype=torch.float64)
    )
    assert torch.equal(same.log_weight_scale, log_scale)  # coinciding samples: nothing to scale by


def test_trainer_initialises_the_layer_on_a_real_batch_without_touching_the_training_stream(
    tiny_config,
):
    trainer = reference_models.build_trainer(tiny_config(model="minibatch"))
    vanilla = reference_models.build_trainer(tiny_config(model="vanilla"))
    assert torch.equal(
        trainer.real_batch(64), vanilla.real_batch(64)
    )  # same data stream as vanilla
    rng = torch.Generator().manual_seed(0 + minibatch.INIT_SEED_OFFSET)
    real = trainer.dataset.sample(64, generator=rng)
    with torch.no_grad():
        nearest = mean_nearest_distance(
            trainer.discriminator.minibatch, trainer.discriminator.base.features(real)
        )
    torch.testing.assert_close(
        nearest, torch.full((minibatch.VECTOR_KERNELS,), 2.0), rtol=1e-4, atol=1e-4
    )


def test_discriminator_joins_o_to_the_features_before_its_last_layer():
    torch.manual_seed(0)
    base = MLPDiscriminator(data_dim=2, hidden=16)
    discriminator = MinibatchDiscriminator(base, kernels=4, kernel_dim=3)
    x = torch.randn(6, 2)
    features = discriminator.features(x)
    assert discriminator.feature_dim == 20 and features.shape == (6, 20)
    torch.testing.assert_close(features[:, :16], base.features(x))
    torch.testing.assert_close(features[:, 16:], discriminator.minibatch(base.features(x)))
    logits = discriminator(x)
    assert logits.shape == (6,)
    torch.testing.assert_close(logits, discriminator.head(features).squeeze(1))
    with pytest.raises(collapsekit.CollapsekitError, match="features"):
        MinibatchDiscriminator(nn.Linear(2, 1))


def test_trainer_builds_the_minibatch_discriminator_from_its_options(tiny_config):
    trainer = reference_models.build_trainer(
        tiny_config(model="minibatch", options={"kernels": 6, "kernel_dim": 2})
    )
    assert isinstance(trainer, MinibatchGAN)
    assert isinstance(trainer.discriminator, MinibatchDiscriminator)
    assert trainer.discriminator.minibatch.theta.shape == (32, 6, 2)
    defaults = reference_models.build_trainer(tiny_config(model="minibatch", batch_size=8))
    assert defaults.discriminator.minibatch.theta.shape == (32, minibatch.VECTOR_KERNELS, 5)
    for _ in range(3):
        result = trainer.train_step()
        assert torch.isfinite(result.loss_discriminator) and torch.isfinite(result.loss_generator)


def test_a_collapsed_batch_is_scored_differently_from_a_spread_one(tiny_config):
    trainer = reference_models.build_trainer(tiny_config(model="minibatch", options={"kernels": 8}))
    point = torch.tensor([[2.0, 0.0]])
    collapsed = point.expand(32, 2)
    spread = torch.cat(
        [point, trainer.dataset.sample(31, generator=torch.Generator().manual_seed(0))]
    )
    with torch.no_grad():
        assert abs(trainer.discriminator(collapsed)[0] - trainer.discriminator(spread)[0]) > 1e-4


@pytest.mark.parametrize(
    "options, message",
    [
        ({"kernels": 0}, "kernels must be a positive integer, got 0"),
        ({"kernels": 2.5}, "kernels must be a positive integer, got 2.5"),
        ({"kernel_dim": -1}, "kernel_dim must be a positive integer, got -1"),
        ({"kernel_dim": True}, "kernel_dim must be a positive integer, got True"),
    ],
)
def test_bad_options_are_refused_before_training(tiny_config, options, message):
    with pytest.raises(collapsekit.CollapsekitError, match=message.replace(".", r"\.")):
        reference_models.build_trainer(tiny_config(model="minibatch", options=options))


@pytest.mark.parametrize("data", ["ring8", "grid25"])
def test_cli_runs_minibatch_discrimination(small_run, tmp_path, data):
    result = small_run(
        "--model",
        "minibatch",
        "--data",
        data,
        "--kernels",
        "10",
        "--kernel-dim",
        "3",
        "--out",
        tmp_path,
        "--name",
        "m",
    )
    assert result.exit_code == 0, result.output
    run = collapsekit.RunDir.open(tmp_path / "m")
    assert run.read_config()["options"] == {"kernels": 10, "kernel_dim": 3}
    summary = run.read_summary()
    assert summary["status"] == "finished" and summary["step"] == 6
    assert math.isfinite(summary["metrics"]["d_real"])


@pytest.mark.parametrize(
    "flags, message",
    [
        (["--kernels", "0"], "kernels must be a positive integer, got 0"),
        (["--kernel-dim", "-2"], "kernel_dim must be a positive integer, got -2"),
        (["--option", "kernels=1.5"], "got 1.5"),
    ],
)
def test_cli_refuses_bad_minibatch_options_before_writing_anything(
    small_run, tmp_path, flags, message
):
    result = small_run("--model", "minibatch", *flags, "--out", tmp_path / "out")
    assert result.exit_code == 2
    assert message in result.output
    assert not (tmp_path / "out").exists()


def test_logit_parts_script_adds_up_to_the_discriminators_logit(tiny_config, tmp_path):
    """scripts/minibatch_logit_parts.py: f part + o part + bias is D's mean logit on each batch."""
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[2] / "scripts" / "minibatch_logit_parts.py"
    spec = importlib.util.spec_from_file_location("minibatch_logit_parts", path)
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)

    config = tiny_config(model="minibatch", steps=10, eval_every=5)
    reference_models.train(config, tmp_path / "run", progress=False)
    parts = script.logit_parts(tmp_path / "run", seed=1)

    run = collapsekit.RunDir.open(tmp_path / "run")
    trainer = reference_models.build_trainer(
        reference_models.TrainConfig.from_dict(run.read_config())
    )
    trainer.load_state_dict(run.load_checkpoint()["trainer"])
    generator = torch.Generator().manual_seed(1)
    real = trainer.dataset.sample(config.batch_size, generator=generator)
    noise = torch.randn(config.batch_size, config.z_dim, generator=generator)
    with torch.no_grad():
        fake = trainer.generator(noise)
        logits = {"real": trainer.discriminator(real), "generated": trainer.discriminator(fake)}
    for name, part in parts.items():
        total = part["from f"] + part["from o"] + part["bias"]
        assert total == pytest.approx(float(logits[name].mean()), abs=1e-5)
        assert len(part["o per kernel"]) == trainer.discriminator.minibatch.kernels
        assert all(0 <= o <= config.batch_size - 1 for o in part["o per kernel"])
    reference_models.train(tiny_config(steps=2, eval_every=2), tmp_path / "vanilla", progress=False)
    with pytest.raises(collapsekit.CollapsekitError, match="not minibatch"):
        script.logit_parts(tmp_path / "vanilla")
