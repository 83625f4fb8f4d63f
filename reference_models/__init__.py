"""Bundled reference GAN trainers, registered by name.

They use collapsekit only through its public API (datasets and the Monitor),
like any user's training code. All built-ins are registered here, in one place.
"""

from __future__ import annotations

from reference_models.loop import build_trainer, load_trained, resume, train
from reference_models.minibatch import MinibatchGAN
from reference_models.pacgan import PacGAN
from reference_models.protocol_catalog import register_builtin_protocols
from reference_models.protocols import (
    Protocol,
    apply_protocol,
    get_protocol,
    list_protocols,
    register_protocol,
)
from reference_models.registry import get_model, list_models, register_model
from reference_models.training import GANTrainer, TrainConfig
from reference_models.unrolled import UnrolledGAN
from reference_models.vanilla import VanillaGAN

register_model("vanilla", VanillaGAN)
register_model("unrolled", UnrolledGAN)
register_model("minibatch", MinibatchGAN)
register_model("pacgan", PacGAN)
register_builtin_protocols()

__all__ = [
    "GANTrainer",
    "MinibatchGAN",
    "PacGAN",
    "Protocol",
    "TrainConfig",
    "UnrolledGAN",
    "VanillaGAN",
    "apply_protocol",
    "build_trainer",
    "get_protocol",
    "get_model",
    "list_models",
    "list_protocols",
    "load_trained",
    "register_model",
    "register_protocol",
    "resume",
    "train",
]
