"""The vanilla GAN: the shared trainer with no change (non-saturating loss, MLP nets)."""

from __future__ import annotations

from reference_models.training import GANTrainer


class VanillaGAN(GANTrainer):
    """Goodfellow et al. (2014) with the non-saturating generator loss."""

    description = "GAN with the non-saturating generator loss (Goodfellow et al. 2014)"
