"""Bundled reference GAN trainers, registered by name.

They use collapsekit only through its public API (datasets and the Monitor),
like any user's training code. All built-ins are registered here, in one place.
"""

from __future__ import annotations

from reference_models.loop import build_trainer, load_trained, resume, train
from reference_models.minibatch import MinibatchGAN
from reference_models.registry import get_model, list_models, register_model
from reference_models.training import GANTrainer, TrainConfig
from reference_models.unrolled import UnrolledGAN
from reference_models.vanilla import VanillaGAN

register_model("vanilla", VanillaGAN)
register_model("unrolled", UnrolledGAN)
register_model("minibatch", MinibatchGAN)

__all__ = [
    "GANTrainer",
    "MinibatchGAN",
    "TrainConfig",
    "UnrolledGAN",
    "VanillaGAN",
    "build_trainer",
    "get_model",
    "list_models",
    "load_trained",
    "register_model",
    "resume",
    "train",
]
