"""The GAN losses on discriminator logits."""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F

import collapsekit


def discriminator_loss(real_logits: torch.Tensor, fake_logits: torch.Tensor) -> torch.Tensor:
    """Summed BCE of D on real (label 1) and generated (label 0): 2 log 2 at equilibrium."""
    real = F.binary_cross_entropy_with_logits(real_logits, torch.ones_like(real_logits))
    fake = F.binary_cross_entropy_with_logits(fake_logits, torch.zeros_like(fake_logits))
    return real + fake


def generator_loss(fake_logits: torch.Tensor) -> torch.Tensor:
    """Non-saturating generator loss: -log D(G(z))."""
    return F.binary_cross_entropy_with_logits(fake_logits, torch.ones_like(fake_logits))


def saturating_generator_loss(fake_logits: torch.Tensor) -> torch.Tensor:
    """The minimax generator loss: log(1 - D(G(z))) = -softplus(logit), minimised.

    Metz et al.'s notebook minimises minus D's loss; D's real term carries no
    gradient to G, so this is that objective up to a constant.
    """
    return -F.softplus(fake_logits).mean()


GENERATOR_OBJECTIVES: dict[str, Callable[[torch.Tensor], torch.Tensor]] = {
    "non_saturating": generator_loss,
    "saturating": saturating_generator_loss,
}


def generator_objective(name: str) -> Callable[[torch.Tensor], torch.Tensor]:
    """The generator loss on fake logits for ``name`` (non_saturating or saturating)."""
    if name not in GENERATOR_OBJECTIVES:
        raise collapsekit.CollapsekitError(
            f"unknown generator objective {name!r}; choose one of: {', '.join(GENERATOR_OBJECTIVES)}"
        )
    return GENERATOR_OBJECTIVES[name]
