import copy

import pytest
import torch
from torch import nn
from torch.func import functional_call

import collapsekit
import reference_models
from reference_models import unrolled
from reference_models.training import discriminator_loss, generator_loss
from reference_models.unrolled import UnrolledGAN, sqrt_with_finite_gradient, unrolled_parameters


def float64_trainer(
    unroll_steps: int, lr_discriminator: float = 0.05, seed: int = 1
) -> UnrolledGAN:
    """A tiny unrolled trainer in float64 (G: 3 -> 8 -> 8 -> 2, D: 2 -> 8 -> 8 -> 1).

    A large D learning rate makes the look-ahead move D enough for its effect
    on the generator's gradient (the second-order term) to be measurable.
    """
    config = reference_models.TrainConfig(
        model="unrolled",
        seed=seed,
        batch_size=16,
        z_dim=3,
        hidden=8,
        lr_discriminator=lr_discriminator,
        device="cpu",
        options={"unroll_steps": unroll_steps},
    )
    trainer = reference_models.build_trainer(config)
    trainer.generator.double()
    trainer.discriminator.double()  # parameters keep their identity: the optimisers still hold them
    return trainer


def batches(trainer, seed: int):
    rng = torch.Generator().manual_seed(seed)
    real = trainer.dataset.sample(16, generator=rng).double()  # (16, 2)
    z = torch.randn(16, 3, generator=rng, dtype=torch.float64)  # (16, 3)
    return real, z


def warm_up_discriminator(trainer, steps: int = 3) -> None:
    """A few real D steps, so that Adam's moments and step count are not at their start."""
    for step in range(steps):
        real, z = batches(trainer, 100 + step)
        trainer.discriminator_update(real, z)


def generator_gradient(trainer, z, real) -> torch.Tensor:
    trainer.generator.zero_grad(set_to_none=True)
    trainer.generator_loss(z, real).backward()
    return torch.cat([p.grad.flatten() for p in trainer.generator.parameters()])


def test_zero_unroll_steps_is_exactly_the_vanilla_gan(tiny_config):
    vanilla = reference_models.build_trainer(tiny_config(model="vanilla"))
    zero = reference_models.build_trainer(
        tiny_config(model="unrolled", options={"unroll_steps": 0})
    )
    for _ in range(10):
        vanilla.train_step()
        zero.train_step()
    for name in ("generator", "discriminator"):
        ours = getattr(zero, name).state_dict()
        theirs = getattr(vanilla, name).state_dict()
        assert all(torch.equal(ours[key], theirs[key]) for key in theirs), name


def test_unroll_steps_change_the_training(tiny_config):
    vanilla = reference_models.build_trainer(tiny_config(model="vanilla"))
    ahead = reference_models.build_trainer(
        tiny_config(model="unrolled", options={"unroll_steps": 2})
    )
    for _ in range(3):
        vanilla.train_step()
        ahead.train_step()
    difference = max(
        (a - b).abs().max().item()
        for a, b in zip(ahead.generator.parameters(), vanilla.generator.parameters(), strict=True)
    )
    assert difference > 1e-6


@pytest.mark.parametrize("steps", [1, 3])
def test_lookahead_takes_the_discriminators_own_adam_steps(steps):
    trainer = float64_trainer(unroll_steps=steps)
    warm_up_discriminator(trainer)
    real, z = batches(trainer, 7)
    ours = trainer.generator_loss(z, real).item()

    # The same K steps taken by a copy of D with a copy of its torch.optim.Adam (state included).
    fake = trainer.generator(z).detach()
    discriminator = copy.deepcopy(trainer.discriminator)
    optimizer = torch.optim.Adam(discriminator.parameters())
    optimizer.load_state_dict(
        copy.deepcopy(trainer.optimizer_d.state_dict())
    )  # it would share tensors
    for _ in range(steps):
        optimizer.zero_grad()
        discriminator_loss(discriminator(real), discriminator(fake)).backward()
        optimizer.step()
    reference = generator_loss(discriminator(fake)).item()
    assert ours == pytest.approx(reference, rel=1e-12)
    lookahead = unrolled_parameters(
        trainer.discriminator, trainer.optimizer_d, real, fake, steps, {}
    )
    for name, parameter in discriminator.named_parameters():
        torch.testing.assert_close(lookahead[name], parameter, rtol=1e-12, atol=1e-15)
    assert ours != pytest.approx(generator_loss(trainer.discriminator(fake)).item(), rel=1e-3)


def test_generator_gradient_matches_finite_differences_of_the_unrolled_objective():
    trainer = float64_trainer(unroll_steps=1)
    warm_up_discriminator(trainer)
    real, z = batches(trainer, 11)
    analytic = generator_gradient(trainer, z, real)  # (P,)

    parameters = list(trainer.generator.parameters())
    numeric = torch.zeros_like(analytic)
    step, index = 1e-6, 0
    for parameter in parameters:
        flat = parameter.data.view(-1)
        for position in range(flat.numel()):
            original = flat[position].item()
            flat[position] = original + step
            above = trainer.generator_loss(z, real).item()
            flat[position] = original - step
            below = trainer.generator_loss(z, real).item()
            flat[position] = original
            numeric[index] = (above - below) / (2 * step)
            index += 1
    assert numeric.abs().max() > 1e-2 and (numeric != 0).float().mean() > 0.9  # a live network
    torch.testing.assert_close(analytic, numeric, rtol=1e-5, atol=1e-8)

    # The second-order term matters here: dropping it (D_1 held fixed) misses the numeric gradient.
    fake = trainer.generator(z)
    lookahead = unrolled_parameters(trainer.discriminator, trainer.optimizer_d, real, fake, 1, {})
    fixed = {name: value.detach() for name, value in lookahead.items()}
    trainer.generator.zero_grad(set_to_none=True)
    generator_loss(
        functional_call(trainer.discriminator, fixed, (trainer.generator(z),))
    ).backward()
    first_order = torch.cat([p.grad.flatten() for p in parameters])
    assert (first_order - numeric).abs().max() > 1e-3 * numeric.abs().max()


def test_lookahead_leaves_the_real_discriminator_and_its_optimiser_untouched(tiny_config):
    trainer = reference_models.build_trainer(
        tiny_config(model="unrolled", options={"unroll_steps": 5})
    )
    for _ in range(3):
        trainer.train_step()
    real, z = trainer.real_batch(64), trainer.noise(64)
    trainer.discriminator_update(real, trainer.noise(64))
    weights = copy.deepcopy(trainer.discriminator.state_dict())
    optimizer = copy.deepcopy(trainer.optimizer_d.state_dict())
    gradients = [p.grad.clone() for p in trainer.discriminator.parameters()]
    generator_before = copy.deepcopy(trainer.generator.state_dict())

    trainer.generator_update(z, real)

    assert all(torch.equal(weights[k], v) for k, v in trainer.discriminator.state_dict().items())
    assert all(
        torch.equal(g, p.grad)
        for g, p in zip(gradients, trainer.discriminator.parameters(), strict=True)
    )
    after = trainer.optimizer_d.state_dict()
    for key, state in optimizer["state"].items():
        assert all(torch.equal(state[name], after["state"][key][name]) for name in state)
    assert not all(
        torch.equal(generator_before[k], v) for k, v in trainer.generator.state_dict().items()
    )


def test_lookahead_works_on_any_discriminator_and_keeps_its_buffers():
    torch.manual_seed(0)
    discriminator = nn.Sequential(
        nn.Linear(2, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Linear(8, 1), nn.Flatten(0)
    )
    optimizer = torch.optim.Adam(discriminator.parameters(), lr=1e-2, betas=(0.5, 0.999))
    real, fake = torch.randn(32, 2), torch.randn(32, 2, requires_grad=True)
    running_mean = discriminator[1].running_mean.clone()
    buffers = {name: b.clone() for name, b in discriminator.named_buffers()}

    parameters = unrolled_parameters(discriminator, optimizer, real, fake, 2, buffers)
    generator_loss(functional_call(discriminator, (parameters, buffers), (fake,))).backward()

    assert torch.equal(discriminator[1].running_mean, running_mean)  # the real D's statistics
    assert not torch.equal(buffers["1.running_mean"], running_mean)  # the look-ahead's copies moved
    assert int(buffers["1.num_batches_tracked"]) == 5  # 2 steps x (real, fake), then the final call
    assert fake.grad is not None and torch.isfinite(fake.grad).all() and fake.grad.abs().sum() > 0
    assert all(p.grad is None for p in discriminator.parameters())


def test_sqrt_has_a_finite_gradient_at_zero():
    value = torch.tensor([0.0, 4.0, 1e-30], dtype=torch.float64, requires_grad=True)
    root = sqrt_with_finite_gradient(value)
    root.sum().backward()
    assert root.tolist() == [0.0, 2.0, 1e-15]
    assert value.grad.tolist() == [0.0, 0.25, pytest.approx(0.5e15)]


def kill_hidden_units(discriminator: nn.Module, units: int) -> None:
    """Make the first ``units`` first-layer ReLU units dead for any input of the 2-D benchmarks."""
    first = discriminator.body[0]
    with torch.no_grad():
        first.weight[:units] = 0.0
        first.bias[:units] = -1.0  # ReLU(-1) = 0 and zero gradient, whatever the input


def test_dead_relu_units_do_not_turn_the_generator_gradient_into_nan(monkeypatch):
    trainer = float64_trainer(unroll_steps=5, lr_discriminator=1e-4)
    kill_hidden_units(trainer.discriminator, units=2)
    warm_up_discriminator(trainer)
    assert (
        trainer.optimizer_d.state[trainer.discriminator.body[0].bias]["exp_avg_sq"][:2] == 0
    ).all()
    real, z = batches(trainer, 3)
    assert torch.isfinite(generator_gradient(trainer, z, real)).all()

    # Without the guard, d sqrt(v)/dv = inf at v = 0 meets dv/dg = 0 and gives NaN.
    monkeypatch.setattr(unrolled, "sqrt_with_finite_gradient", torch.sqrt)
    assert torch.isnan(generator_gradient(trainer, z, real)).any()


class DeadUnitsUnrolledGAN(UnrolledGAN):
    """The unrolled trainer with three dead D units from the start: Adam's v stays exactly 0 for them."""

    def build_discriminator(self) -> nn.Module:
        discriminator = super().build_discriminator()
        kill_hidden_units(discriminator, units=3)
        return discriminator


def test_a_long_unrolled_run_with_dead_units_stays_finite(tiny_config, monkeypatch):
    # Unguarded, the first generator step here is already NaN (see the test above).
    monkeypatch.setitem(
        reference_models.registry._MODELS, "unrolled-dead-units", DeadUnitsUnrolledGAN
    )
    config = tiny_config(
        model="unrolled-dead-units", batch_size=16, z_dim=4, hidden=8, options={"unroll_steps": 5}
    )
    trainer = reference_models.build_trainer(config)
    for _ in range(120):
        result = trainer.train_step()
        assert torch.isfinite(result.loss_generator), (
            f"non-finite generator loss at step {trainer.step}"
        )
    assert all(torch.isfinite(p).all() for p in trainer.generator.parameters())
    assert all(torch.isfinite(p).all() for p in trainer.discriminator.parameters())
    dead_bias = trainer.discriminator.body[0].bias
    assert (trainer.optimizer_d.state[dead_bias]["exp_avg_sq"][:3] == 0).all()  # v = 0 all along


@pytest.mark.parametrize("value", [-1, 2.5, True, "5", None])
def test_bad_unroll_steps_are_refused_before_training(tiny_config, value):
    with pytest.raises(
        collapsekit.CollapsekitError, match="unroll_steps must be a non-negative integer"
    ):
        reference_models.build_trainer(
            tiny_config(model="unrolled", options={"unroll_steps": value})
        )


@pytest.mark.parametrize("data", ["ring8", "grid25"])
def test_cli_runs_the_unrolled_gan(small_run, tmp_path, data):
    result = small_run(
        "--model",
        "unrolled",
        "--data",
        data,
        "--unroll-steps",
        "2",
        "--out",
        tmp_path,
        "--name",
        "u",
    )
    assert result.exit_code == 0, result.output
    run = collapsekit.RunDir.open(tmp_path / "u")
    assert run.read_config()["options"] == {"unroll_steps": 2}
    assert run.read_summary()["status"] == "finished"


@pytest.mark.parametrize(
    "flags, message",
    [
        (
            ["--model", "unrolled", "--unroll-steps", "-1"],
            "unroll_steps must be a non-negative integer, got -1",
        ),
        (["--model", "unrolled", "--option", "unroll_steps=2.5"], "got 2.5"),
        (["--model", "unrolled", "--unroll-steps", "3", "--option", "unroll_steps=4"], "disagree"),
        (["--model", "vanilla", "--unroll-steps", "3"], "unknown option(s) unroll_steps"),
    ],
)
def test_cli_refuses_bad_unroll_steps_before_writing_anything(small_run, tmp_path, flags, message):
    result = small_run(*flags, "--out", tmp_path / "out")
    assert result.exit_code == 2
    assert message in result.output
    assert not (tmp_path / "out").exists()
