"""The shared training loop of the reference GANs and the vanilla trainer.

Trainers use collapsekit only through its public API (datasets and the Monitor),
exactly as a user's own training code would. A variant subclasses ``GANTrainer``
and overrides the update it changes (``generator_loss`` for unrolled GANs,
``build_discriminator`` for minibatch discrimination).
"""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch import nn

import collapsekit
from collapsekit.data import Dataset
from collapsekit.limits import check_positive_finite, check_seed
from reference_models.conv_nets import ConvDiscriminator, ConvGenerator
from reference_models.nets import MLPDiscriminator, MLPGenerator

logger = logging.getLogger(__name__)


# Defaults per kind of data ("vector": 2-D mixtures, "image": (C, S, S) samples).
DEFAULTS = {
    "vector": {
        "steps": 25_000,  # Metz et al.: 25,000 iterations
        "eval_every": 1_000,  # 26 evaluations per default run
        "batch_size": 512,  # Metz et al. notebook
        "z_dim": 256,  # Metz et al.: z of 256 dims, N(0, I)
        "hidden": 128,  # two hidden layers of 128 units in G and D
        "lr_generator": 1e-3,  # Metz et al. notebook: G 1e-3, D 1e-4
        "lr_discriminator": 1e-4,
    },
    "image": {
        "steps": 5_000,  # a default stacked-digits run fits 10 minutes on 2 CPU cores
        "eval_every": 500,  # 11 evaluations of 26,000 samples (about 6 s each on a CPU)
        "batch_size": 64,  # DCGAN
        "z_dim": 100,  # DCGAN: z of 100 dims (ours N(0, I), DCGAN's uniform)
        "hidden": 32,  # conv base width: D 32 -> 64 channels, G 64 -> 32 on 8x8 images
        "lr_generator": 2e-4,  # DCGAN: Adam 2e-4 for both, beta1 0.5
        "lr_discriminator": 2e-4,
    },
}


def data_kind(dataset: Dataset) -> str:
    """The kind of data that picks nets and defaults: "image" for samples (C, H, W), else "vector"."""
    return "image" if len(dataset.sample_shape) == 3 else "vector"


@dataclass
class TrainConfig:
    """Everything that defines a run; stored in config.json and enough to resume it."""

    model: str = "vanilla"
    data: str = "ring8"
    seed: int = 0
    # None: the default of the data's kind (DEFAULTS below), filled in by build_trainer
    steps: int | None = None
    eval_every: int | None = None
    batch_size: int | None = None
    z_dim: int | None = None
    hidden: int | None = None  # MLP hidden units (vector data), conv base width (images)
    lr_generator: float | None = None
    lr_discriminator: float | None = None
    beta1: float = 0.5  # Adam beta1 of DCGAN and Metz et al.
    beta2: float = 0.999
    eval_samples: int | None = None  # None: the dataset's protocol (2,500 for 2-D)
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
        for name in ("steps", "eval_every", "batch_size", "z_dim", "hidden"):
            value = getattr(self, name)
            if value is None:
                continue
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise collapsekit.CollapsekitError(
                    f"{name} must be a positive integer, got {value!r}"
                )
        check_seed(self.seed)
        for name in ("lr_generator", "lr_discriminator"):
            if getattr(self, name) is not None:
                check_positive_finite(getattr(self, name), name)

    @classmethod
    def from_dict(cls, values: dict) -> TrainConfig:
        known = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in values.items() if k in known})


@dataclass
class StepResult:
    """One training step's outputs: losses and the discriminator's logits (detached)."""

    loss_discriminator: torch.Tensor
    loss_generator: torch.Tensor
    real_logits: torch.Tensor  # (B,)
    fake_logits: torch.Tensor  # (B,)


class GANTrainer:
    """The original GAN with the non-saturating generator loss (Goodfellow et al. 2014).

    One step: update D on a real and a generated batch, then G on a fresh batch.
    """

    description = "GAN with the non-saturating generator loss (Goodfellow et al. 2014)"
    option_defaults: dict = {}

    def __init__(self, config: TrainConfig, dataset: Dataset, device: torch.device) -> None:
        self.config = config
        self.dataset = dataset
        self.device = device
        self.options = self.resolve_options(config.options, data_kind(dataset))
        config.options = dict(self.options)  # config.json stores the options used, defaults too
        config.fill_defaults(dataset)
        torch.manual_seed(config.seed)  # network initialisation
        self.generator = self.build_generator().to(device)
        self.discriminator = self.build_discriminator().to(device)
        betas = (config.beta1, config.beta2)
        self.optimizer_g = torch.optim.Adam(
            self.generator.parameters(), config.lr_generator, betas=betas
        )
        self.optimizer_d = torch.optim.Adam(
            self.discriminator.parameters(), config.lr_discriminator, betas=betas
        )
        self.rng = torch.Generator().manual_seed(config.seed)  # real batches and noise, on the CPU
        self.step = 0

    @classmethod
    def resolve_options(cls, options: dict, kind: str | None = None) -> dict:
        """The model's options: ``options`` over its defaults (for data of ``kind``, if given).

        Raises CollapsekitError naming unknown or invalid options.
        """
        unknown = set(options) - set(cls.option_defaults)
        if unknown:
            valid = ", ".join(sorted(cls.option_defaults)) or "none"
            raise collapsekit.CollapsekitError(
                f"unknown option(s) {', '.join(sorted(unknown))} for this model; valid: {valid}"
            )
        return {**cls.option_defaults, **options}

    # -- networks ---------------------------------------------------------------
    def build_generator(self) -> nn.Module:
        if data_kind(self.dataset) == "image":
            return ConvGenerator(self.config.z_dim, self.dataset.sample_shape, self.config.hidden)
        (data_dim,) = self.dataset.sample_shape
        return MLPGenerator(self.config.z_dim, data_dim, self.config.hidden)

    def build_discriminator(self) -> nn.Module:
        if data_kind(self.dataset) == "image":
            return ConvDiscriminator(self.dataset.sample_shape, self.config.hidden)
        (data_dim,) = self.dataset.sample_shape
        return MLPDiscriminator(data_dim, self.config.hidden)

    # -- data --------------------------------------------------------------------
    def noise(self, n: int) -> torch.Tensor:
        return torch.randn(n, self.config.z_dim, generator=self.rng).to(self.device)  # (n, z_dim)

    def real_batch(self, n: int) -> torch.Tensor:
        return self.dataset.sample(n, generator=self.rng).to(self.device)  # (n, *sample_shape)

    # -- one step ------------------------------------------------------------------
    def train_step(self) -> StepResult:
        batch = self.config.batch_size
        real, z_d, z_g = self.real_batch(batch), self.noise(batch), self.noise(batch)
        loss_d, real_logits, fake_logits = self.discriminator_update(real, z_d)
        loss_g = self.generator_update(z_g, real)
        self.step += 1
        return StepResult(
            loss_d.detach(), loss_g.detach(), real_logits.detach(), fake_logits.detach()
        )

    def discriminator_update(self, real: torch.Tensor, z: torch.Tensor):
        # Update D: maximize log D(x) + log(1 - D(G(z)))
        with torch.no_grad():
            fake = self.generator(z)
        real_logits = self.discriminator(real)
        fake_logits = self.discriminator(fake)
        loss = discriminator_loss(real_logits, fake_logits)
        self.optimizer_d.zero_grad(set_to_none=True)
        loss.backward()
        self.optimizer_d.step()
        return loss, real_logits, fake_logits

    def generator_update(self, z: torch.Tensor, real: torch.Tensor) -> torch.Tensor:
        # Update G: maximize log D(G(z)) (non-saturating)
        loss = self.generator_loss(z, real)
        self.optimizer_g.zero_grad(set_to_none=True)
        loss.backward()
        self.optimizer_g.step()
        return loss

    def generator_loss(self, z: torch.Tensor, real: torch.Tensor) -> torch.Tensor:
        """The generator's objective at the current discriminator; ``real`` serves look-ahead variants."""
        return generator_loss(self.discriminator(self.generator(z)))

    # -- evaluation and state -------------------------------------------------------------
    def sampler(self, num_samples: int) -> FixedNoiseSampler:
        """Evaluation samples from a fixed noise batch, the same at every evaluation (PacGAN protocol)."""
        noise_rng = torch.Generator().manual_seed(self.config.seed + 1_000_003)
        noise = torch.randn(num_samples, self.config.z_dim, generator=noise_rng)
        return FixedNoiseSampler(self.generator, noise, self.device)

    def state_dict(self) -> dict:
        return {
            "step": self.step,
            "generator": self.generator.state_dict(),
            "discriminator": self.discriminator.state_dict(),
            "optimizer_g": self.optimizer_g.state_dict(),
            "optimizer_d": self.optimizer_d.state_dict(),
            "rng": self.rng.get_state(),
            "torch_rng": torch.get_rng_state(),
        }

    def load_state_dict(self, state: dict) -> None:
        self.step = int(state["step"])
        self.generator.load_state_dict(state["generator"])
        self.discriminator.load_state_dict(state["discriminator"])
        self.optimizer_g.load_state_dict(state["optimizer_g"])
        self.optimizer_d.load_state_dict(state["optimizer_d"])
        self.rng.set_state(state["rng"])
        torch.set_rng_state(state["torch_rng"])


class FixedNoiseSampler:
    """``sample_fn(n)`` over a fixed noise batch: successive calls walk through it, wrapping around."""

    def __init__(self, generator: nn.Module, noise: torch.Tensor, device: torch.device) -> None:
        self.generator = generator  # found by the Monitor, which switches it to eval mode
        self.noise = noise  # (N, z_dim) on the CPU
        self.device = device
        self.cursor = 0

    def __call__(self, n: int) -> torch.Tensor:
        index = (torch.arange(n) + self.cursor) % self.noise.shape[0]
        self.cursor = (self.cursor + n) % self.noise.shape[0]
        return self.generator(self.noise[index].to(self.device))


def discriminator_loss(real_logits: torch.Tensor, fake_logits: torch.Tensor) -> torch.Tensor:
    """Summed BCE of D on real (label 1) and generated (label 0): 2 log 2 at equilibrium."""
    real = F.binary_cross_entropy_with_logits(real_logits, torch.ones_like(real_logits))
    fake = F.binary_cross_entropy_with_logits(fake_logits, torch.zeros_like(fake_logits))
    return real + fake


def generator_loss(fake_logits: torch.Tensor) -> torch.Tensor:
    """Non-saturating generator loss: -log D(G(z))."""
    return F.binary_cross_entropy_with_logits(fake_logits, torch.ones_like(fake_logits))


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
