"""draw_samples: chunks, no_grad, eval mode and back, module discovery, clear errors."""

from __future__ import annotations

import functools

import pytest
import torch
from torch import nn

from collapsekit.errors import CollapsekitError
from collapsekit.sampling import draw_samples, eval_mode, referenced_modules


def make_generator() -> nn.Module:
    return nn.Sequential(nn.Linear(4, 8), nn.Dropout(0.5), nn.BatchNorm1d(8), nn.Linear(8, 2))


GLOBAL_GENERATOR = make_generator()


def _global_sample(n: int) -> torch.Tensor:
    return GLOBAL_GENERATOR(torch.randn(n, 4))


class Trainer:
    """A user's object holding the nets, sampling through a method or as a callable."""

    def __init__(self) -> None:
        self.generator = make_generator()
        self.discriminator = nn.Linear(2, 1)

    def sample(self, n: int) -> torch.Tensor:
        return self.generator(torch.randn(n, 4))

    def __call__(self, n: int) -> torch.Tensor:
        return self.sample(n)


def test_chunks_shapes_and_no_grad():
    generator = make_generator()
    sizes, grad_enabled, training = [], [], []

    def sample_fn(n):
        sizes.append(n)
        grad_enabled.append(torch.is_grad_enabled())
        training.append([m.training for m in generator.modules()])
        return generator(torch.randn(n, 4)).half()

    samples = draw_samples(sample_fn, 10, 4, (2,))
    assert sizes == [4, 4, 2]
    assert (
        samples.shape == (10, 2) and samples.dtype == torch.float32 and samples.device.type == "cpu"
    )
    assert not samples.requires_grad
    assert grad_enabled == [False] * 3
    assert training == [[False] * 5] * 3  # dropout and batch norm in eval mode while sampling
    assert all(m.training for m in generator.modules())  # and back afterwards


def test_each_module_gets_its_own_mode_back_even_after_an_error():
    generator = make_generator()
    generator[2].eval()  # the user froze batch norm on purpose
    before = [m.training for m in generator.modules()]

    def failing(n):
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        draw_samples(failing, 10, 4, (2,), model=generator)
    assert [m.training for m in generator.modules()] == before == [True, True, True, False, True]
    generator.eval()
    draw_samples(lambda n: generator(torch.randn(n, 4)), 3, 4, (2,))
    assert not any(m.training for m in generator.modules())  # eval stays eval


def test_model_override_switches_only_the_given_modules():
    referenced, given = make_generator(), make_generator()
    seen = []

    def sample_fn(n):
        seen.append((referenced.training, given.training))
        return referenced(torch.randn(n, 4))

    draw_samples(sample_fn, 2, 4, (2,), model=given)
    assert seen == [(True, False)]
    draw_samples(sample_fn, 2, 4, (2,), model=[given, referenced])
    assert seen[-1] == (False, False)
    with pytest.raises(CollapsekitError, match="model must be a torch.nn.Module or a list of them"):
        draw_samples(sample_fn, 2, 4, (2,), model="generator")


def test_referenced_modules_finds_the_generator_wherever_the_user_keeps_it():
    generator = make_generator()
    trainer = Trainer()
    models = {"G": generator}

    def helper(n):
        return GLOBAL_GENERATOR(torch.randn(n, 4))

    assert referenced_modules(lambda n: generator(torch.randn(n, 4))) == [generator]  # closure
    assert referenced_modules(_global_sample) == [GLOBAL_GENERATOR]  # global name
    assert referenced_modules(generator) == [generator]  # the module itself
    assert referenced_modules(trainer.sample) == [
        trainer.generator,
        trainer.discriminator,
    ]  # method
    assert referenced_modules(trainer) == [
        trainer.generator,
        trainer.discriminator,
    ]  # callable object
    assert referenced_modules(lambda n: trainer.sample(n)) == [
        trainer.generator,
        trainer.discriminator,
    ]
    assert referenced_modules(lambda n: models["G"](torch.randn(n, 4))) == [generator]  # dict
    assert referenced_modules(functools.partial(lambda g, n: g(n), generator)) == [
        generator
    ]  # partial
    assert referenced_modules(lambda n: helper(n)) == [GLOBAL_GENERATOR]  # through a helper
    assert referenced_modules(lambda n: torch.randn(n, 2)) == []


def test_eval_mode_context_restores_flags():
    generator = make_generator()
    with eval_mode([generator]):
        assert not any(m.training for m in generator.modules())
    assert all(m.training for m in generator.modules())


@pytest.mark.parametrize(
    ("sample_fn", "message"),
    [
        (
            lambda n: [[0.0, 0.0]] * n,
            "sample_fn\\(4\\) returned list; it must return a torch.Tensor",
        ),
        (
            lambda n: torch.zeros(n, 2, dtype=torch.int64),
            "returned dtype torch.int64; return floating-point",
        ),
        (lambda n: torch.zeros(n, 3), "returned shape \\(4, 3\\); ring8 needs \\(4, 2\\)"),
        (lambda n: torch.zeros(n + 1, 2), "returned shape \\(5, 2\\); ring8 needs \\(4, 2\\)"),
        (lambda n: (torch.zeros(n, 2), None), "returned tuple"),
    ],
)
def test_wrong_sample_fn_output_names_sample_fn(sample_fn, message):
    with pytest.raises(CollapsekitError, match=message):
        draw_samples(sample_fn, 10, 4, (2,), data_name="ring8")


def test_sample_fn_must_be_callable():
    with pytest.raises(
        CollapsekitError, match="sample_fn must be callable as sample_fn\\(n\\), got Tensor"
    ):
        draw_samples(torch.zeros(3, 2), 3, 4, (2,))


def test_nonfinite_samples_are_returned_for_the_caller_to_record():
    samples = draw_samples(lambda n: torch.full((n, 2), float("nan")), 3, 4, (2,))
    assert samples.isnan().all()
