"""What defines a reference run: ``TrainConfig``, the defaults per kind of data, and their checks.

A setting left at None is filled in, in this order: by the run's protocol
(``reference_models.protocols``: the settings of a paper's released code), then
by ``DEFAULTS`` for the data's kind. A value given explicitly always wins.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field

import torch

import collapsekit
from collapsekit.data import Dataset
from collapsekit.limits import check_positive_finite, check_seed

# Defaults per kind of data ("vector": 2-D mixtures, "image": (C, S, S) samples): the
# `default` protocol.
DEFAULTS = {
    "vector": {
        "steps": 25_000,  # Metz et al.: 25,000 iterations
        "eval_every": 1_000,  # 26 evaluations per default run
        "batch_size": 512,  # Metz et al. notebook
        "z_dim": 256,  # Metz et al.: z of 256 dims, N(0, I)
        "hidden": 128,  # two hidden layers of 128 units in G and D
        "lr_generator": 1e-3,  # Metz et al. notebook: G 1e-3, D 1e-4
        "lr_discriminator": 1e-4,
        "beta1": 0.5,  # Adam beta1 of DCGAN and Metz et al.
        "beta2": 0.999,
        "nets": "mlp",  # ReLU MLPs, PyTorch's default init
        "generator_objective": "non_saturating",
        "updates": "alternating",
        "train_set_size": 0,  # 0: a fresh real batch from the mixture every step
        "eval_batch_norm": "running",  # G's batch norm uses its running statistics when sampling
    },
    "image": {
        "steps": 5_000,  # a default stacked-digits run fits 10 minutes on 2 CPU cores
        "eval_every": 500,  # 11 evaluations of 26,000 samples (about 6 s each on a CPU)
        "batch_size": 64,  # DCGAN
        "z_dim": 100,  # DCGAN: z of 100 dims (ours N(0, I), DCGAN's uniform)
        "hidden": 32,  # conv base width: D 32 -> 64 channels, G 64 -> 32 on 8x8 images
        "lr_generator": 2e-4,  # DCGAN: Adam 2e-4 for both, beta1 0.5
        "lr_discriminator": 2e-4,
        "beta1": 0.5,
        "beta2": 0.999,
        "nets": "dcgan",
        "generator_objective": "non_saturating",
        "updates": "alternating",
        "train_set_size": 0,
        "eval_batch_norm": "running",
    },
}

# The choices of the settings that name a variant (checked by TrainConfig.validate).
CHOICES = {
    "generator_objective": ("non_saturating", "saturating"),
    "updates": ("alternating", "simultaneous"),
    "d_width": ("quarter", "half", "full"),  # the metz nets' D: 1/4, 1/2 or all of G's channels
    "eval_batch_norm": ("running", "batch"),
}
POSITIVE_INTEGERS = ("steps", "eval_every", "batch_size", "z_dim", "hidden", "eval_samples")
POSITIVE_NUMBERS = ("lr_generator", "lr_discriminator")
UNIT_INTERVAL = ("beta1", "beta2")  # Adam's betas lie in [0, 1)


def data_kind(dataset: Dataset) -> str:
    """The kind of data that picks nets and defaults: "image" for samples (C, H, W), else "vector"."""
    return "image" if len(dataset.sample_shape) == 3 else "vector"


@dataclass
class TrainConfig:
    """Everything that defines a run; stored in config.json and enough to resume it."""

    model: str = "vanilla"
    data: str = "ring8"
    seed: int = 0
    protocol: str = "default"  # named defaults from a paper's code (reference_models.protocols)
    # None: filled in by the protocol, then by the default of the data's kind (DEFAULTS)
    steps: int | None = None
    eval_every: int | None = None
    batch_size: int | None = None
    z_dim: int | None = None
    hidden: int | None = None  # MLP hidden units (vector data), conv base width (images)
    lr_generator: float | None = None
    lr_discriminator: float | None = None
    beta1: float | None = None
    beta2: float | None = None
    nets: str | None = None  # architecture family, see reference_models.net_builders.NETS
    d_width: str | None = None  # metz nets only: D's channels, quarter / half / full of G's
    generator_objective: str | None = None  # non_saturating: -log D(G(z)); saturating: log(1 - D)
    updates: str | None = None  # alternating: D then G; simultaneous: both from one forward pass
    train_set_size: int | None = None  # >0: a fixed training set drawn once (PacGAN: 100,000)
    eval_samples: int | None = None  # None: the dataset's protocol (2,500 for 2-D)
    # running: G samples in eval mode; batch: in training batches, each normalised by its own
    # statistics (the Metz/PacGAN stacked-MNIST code samples with is_training=True)
    eval_batch_norm: str | None = None
    device: str = "auto"  # "auto": CUDA when available, else CPU
    options: dict = field(default_factory=dict)  # model-specific, e.g. {"unroll_steps": 5}

    def fill_defaults(self, dataset: Dataset) -> TrainConfig:
        """Set every setting left at None to the default for ``dataset``'s kind; returns self.

        Example:
            >>> TrainConfig(steps=100).fill_defaults(collapsekit.get_dataset("ring8")).z_dim
            256
        """
        for name, value in DEFAULTS[data_kind(dataset)].items():
            if getattr(self, name) is None:
                setattr(self, name, value)
        return self

    def validate(self) -> None:
        """Check the settings given; None (a default still to fill in) passes."""
        check_seed(self.seed)
        for name in POSITIVE_INTEGERS:
            _check_integer(name, getattr(self, name), minimum=1)
        _check_integer("train_set_size", self.train_set_size, minimum=0)
        for name in POSITIVE_NUMBERS:
            if getattr(self, name) is not None:
                check_positive_finite(getattr(self, name), name)
        for name in UNIT_INTERVAL:
            _check_number(name, getattr(self, name), low=None, high=1.0)
        for name, choices in CHOICES.items():
            value = getattr(self, name)
            if value is not None and value not in choices:
                raise collapsekit.CollapsekitError(
                    f"{name} must be one of {', '.join(choices)}, got {value!r}"
                )

    @classmethod
    def from_dict(cls, values: dict) -> TrainConfig:
        known = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in values.items() if k in known})


def _check_integer(name: str, value: object, minimum: int) -> None:
    if value is None:
        return
    if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
        kind = "a positive integer" if minimum == 1 else f"an integer of at least {minimum}"
        raise collapsekit.CollapsekitError(f"{name} must be {kind}, got {value!r}")


def _check_number(name: str, value: object, low: float | None, high: float) -> None:
    """A finite number in (low, high) (low None: [0, high))."""
    if value is None:
        return
    number = value if isinstance(value, (int, float)) and not isinstance(value, bool) else None
    inside = number is not None and math.isfinite(number) and number < high
    inside = inside and (number >= 0 if low is None else number > low)
    if not inside:
        bounds = f"in [0, {high:g})" if low is None else "finite and positive"
        raise collapsekit.CollapsekitError(f"{name} must be {bounds}, got {value!r}")


def resolve_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        device = torch.device(name)
    except RuntimeError:
        raise collapsekit.CollapsekitError(
            f"unknown device {name!r}; use auto, cpu or cuda"
        ) from None
    if device.type == "cuda" and not torch.cuda.is_available():
        raise collapsekit.CollapsekitError(
            "device cuda asked for, but no CUDA GPU is available; use --device cpu"
        )
    return device
