"""Unrolled GAN (Metz et al. 2016): the generator plays against the discriminator K steps ahead.

The generator's loss is evaluated at the discriminator's parameters after K
differentiable steps of the discriminator's own Adam optimiser (same learning
rate, betas, eps, and its current moments and step count), and the generator's
gradient flows back through all K steps: the paper's full version, with the
second-order term. The real discriminator then takes its normal step; the
look-ahead works on detached copies and never changes the discriminator, its
buffers or its optimiser.

Works on any discriminator module: the look-ahead calls it through
``torch.func.functional_call`` with a dictionary of parameters.

Example:
    >>> from reference_models import TrainConfig, train
    >>> config = TrainConfig(model="unrolled", steps=200, options={"unroll_steps": 5})
    >>> summary = train(config, run_dir=None, progress=False)  # doctest: +SKIP
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn
from torch.func import functional_call

import collapsekit
from reference_models.losses import discriminator_loss
from reference_models.training import GANTrainer

DEFAULT_UNROLL_STEPS = 5  # Metz et al. (2016) notebook and VEEGAN's comparison: 5 unrolling steps

Parameters = dict[str, torch.Tensor]


@dataclass
class AdamSettings:
    """Hyper-parameters of one Adam parameter group (as ``torch.optim.Adam`` stores them)."""

    lr: float
    beta1: float
    beta2: float
    eps: float
    weight_decay: float


@dataclass
class AdamMoments:
    """Adam's state for one parameter: first and second moments and its step count."""

    exp_avg: torch.Tensor
    exp_avg_sq: torch.Tensor
    step: float


class UnrolledGAN(GANTrainer):
    """Metz et al. (2016): G minimises its loss at D after K differentiable Adam steps of D.

    Option ``unroll_steps`` (K, default 5); K = 0 is exactly the vanilla GAN.
    """

    description = (
        "Unrolled GAN: G's loss at D after K differentiable Adam steps of D (Metz et al. 2016)"
    )
    option_defaults = {"unroll_steps": DEFAULT_UNROLL_STEPS}

    @classmethod
    def resolve_options(cls, options: dict, kind: str | None = None) -> dict:
        resolved = super().resolve_options(options, kind)
        steps = resolved["unroll_steps"]
        if not isinstance(steps, int) or isinstance(steps, bool) or steps < 0:
            raise collapsekit.CollapsekitError(
                f"unroll_steps must be a non-negative integer, got {steps!r}; "
                f"use e.g. --unroll-steps {DEFAULT_UNROLL_STEPS} (0 gives the vanilla GAN)"
            )
        return resolved

    def loss_of_generated(
        self, fake: torch.Tensor, real: torch.Tensor, fake_logits: torch.Tensor | None = None
    ) -> torch.Tensor:
        # Update G: its objective at D_K, D after K look-ahead steps that depend on G (fake
        # carries G's graph); D's logits at the current parameters (fake_logits) do not serve
        buffers = {name: b.clone() for name, b in self.discriminator.named_buffers()}
        parameters = unrolled_parameters(
            self.discriminator, self.optimizer_d, real, fake, self.options["unroll_steps"], buffers
        )
        fake_logits = functional_call(self.discriminator, (parameters, buffers), (fake,))  # (B,)
        return self.objective(fake_logits)


def unrolled_parameters(
    discriminator: nn.Module,
    optimizer: torch.optim.Adam,
    real: torch.Tensor,
    fake: torch.Tensor,
    steps: int,
    buffers: Parameters,
) -> Parameters:
    """The discriminator's parameters after ``steps`` differentiable steps of its Adam optimiser.

    Each step minimises the discriminator's loss on ``real`` and ``fake`` (the
    same batches every step, as in Metz et al.'s code). The start is a detached
    copy of the current parameters and optimiser state, so gradients reach
    ``fake`` (and through it the generator) but never the real discriminator.
    ``buffers`` (copies) receive any in-place buffer updates, e.g. batch norm's.

    Example:
        >>> params = unrolled_parameters(d, d_optimizer, real, g(z), 5, {})  # doctest: +SKIP
        >>> loss = generator_loss(functional_call(d, params, (g(z),)))  # doctest: +SKIP
    """
    parameters = {name: p.detach() for name, p in discriminator.named_parameters()}
    if steps == 0:
        return parameters
    trainable = [name for name, p in discriminator.named_parameters() if p.requires_grad]
    settings, moments = read_adam_state(discriminator, optimizer, trainable)
    for name in trainable:
        parameters[name] = parameters[name].clone().requires_grad_(True)
    for _ in range(steps):
        real_logits = functional_call(discriminator, (parameters, buffers), (real,))  # (B,)
        fake_logits = functional_call(discriminator, (parameters, buffers), (fake,))  # (B,)
        loss = discriminator_loss(real_logits, fake_logits)
        inputs = [parameters[name] for name in trainable]
        gradients = torch.autograd.grad(loss, inputs, create_graph=True, allow_unused=True)
        for name, gradient in zip(trainable, gradients, strict=True):
            if gradient is not None:  # torch.optim.Adam skips parameters without a gradient
                parameters[name], moments[name] = adam_step(
                    parameters[name], gradient, moments[name], settings[name]
                )
    return parameters


def read_adam_state(
    module: nn.Module, optimizer: torch.optim.Adam, names: list[str]
) -> tuple[dict[str, AdamSettings], dict[str, AdamMoments]]:
    """Hyper-parameters and (detached) state of ``optimizer`` for the named parameters of ``module``."""
    group_of = {}
    for group in optimizer.param_groups:
        decoupled = group.get("decoupled_weight_decay") and group["weight_decay"] != 0
        if group.get("amsgrad") or group.get("maximize") or decoupled:
            raise collapsekit.CollapsekitError(
                "the unrolled look-ahead implements plain Adam; use torch.optim.Adam "
                "without amsgrad, maximize or decoupled weight decay for the discriminator"
            )
        beta1, beta2 = group["betas"]
        settings = AdamSettings(
            float(group["lr"]), beta1, beta2, group["eps"], group["weight_decay"]
        )
        for parameter in group["params"]:
            group_of[parameter] = settings
    named = dict(module.named_parameters())
    settings, moments = {}, {}
    for name in names:
        parameter = named[name]
        settings[name] = group_of[parameter]
        state = optimizer.state.get(parameter, {})
        if "exp_avg" in state:
            moments[name] = AdamMoments(
                state["exp_avg"].detach(), state["exp_avg_sq"].detach(), float(state["step"])
            )
        else:  # before the optimiser's first step: zero moments
            zeros = torch.zeros_like(parameter, memory_format=torch.preserve_format)
            moments[name] = AdamMoments(zeros, zeros, 0.0)
    return settings, moments


def adam_step(
    parameter: torch.Tensor, gradient: torch.Tensor, moments: AdamMoments, settings: AdamSettings
) -> tuple[torch.Tensor, AdamMoments]:
    """One differentiable step of ``torch.optim.Adam`` (no amsgrad), without in-place updates.

    The same arithmetic as PyTorch's implementation, except that the square root
    of the second moment has derivative 0 instead of infinity where the moment is
    exactly 0 (a parameter that has only ever had zero gradients, e.g. of a dead
    ReLU unit); otherwise 0 * inf turns the generator's gradient into NaN.
    """
    if settings.weight_decay != 0:
        gradient = gradient + settings.weight_decay * parameter
    step = moments.step + 1
    exp_avg = torch.lerp(moments.exp_avg, gradient, 1 - settings.beta1)
    exp_avg_sq = moments.exp_avg_sq * settings.beta2 + (1 - settings.beta2) * gradient * gradient
    step_size = settings.lr / (1 - settings.beta1**step)
    bias_correction2_sqrt = (1 - settings.beta2**step) ** 0.5
    denominator = sqrt_with_finite_gradient(exp_avg_sq) / bias_correction2_sqrt + settings.eps
    parameter = parameter - step_size * exp_avg / denominator
    return parameter, AdamMoments(exp_avg, exp_avg_sq, step)


def sqrt_with_finite_gradient(value: torch.Tensor) -> torch.Tensor:
    """``sqrt(value)`` for ``value >= 0``, with derivative 0 (not infinity) where ``value == 0``.

    The forward value is exactly ``torch.sqrt``'s. The double ``where`` keeps the
    infinite derivative out of the graph: the masked branch sees 1, not 0.

    Example:
        >>> v = torch.tensor([0.0, 4.0], requires_grad=True)
        >>> sqrt_with_finite_gradient(v).sum().backward()
        >>> v.grad
        tensor([0.0000, 0.2500])
    """
    positive = value > 0
    safe = torch.where(positive, value, torch.ones_like(value))
    return torch.where(positive, safe.sqrt(), torch.zeros_like(value))
