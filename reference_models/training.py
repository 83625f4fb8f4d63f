"""The shared training loop of the reference GANs and the vanilla trainer.

Trainers use collapsekit only through its public API (datasets and the Monitor),
exactly as a user's own training code would. A variant subclasses ``GANTrainer``
and overrides the part it changes (``loss_of_generated`` for unrolled GANs,
``build_discriminator`` for minibatch discrimination, the batches and ``generate``
for PacGAN). The settings (nets, objective, update order, fixed training set)
come from the TrainConfig, filled in by the run's protocol.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import torch
from torch import nn

import collapsekit
from collapsekit.data import Dataset
from reference_models.config import DEFAULTS, TrainConfig, data_kind, resolve_device
from reference_models.losses import discriminator_loss, generator_loss, generator_objective
from reference_models.net_builders import build_discriminator, build_generator, check_nets
from reference_models.train_set import FixedTrainingSet

logger = logging.getLogger(__name__)


@dataclass
class StepResult:
    """One training step's outputs: losses and the discriminator's logits (detached)."""

    loss_discriminator: torch.Tensor
    loss_generator: torch.Tensor
    real_logits: torch.Tensor  # (B,)
    fake_logits: torch.Tensor  # (B,)


class GANTrainer:
    """The original GAN (Goodfellow et al. 2014), with the settings of its TrainConfig.

    One step, ``updates="alternating"``: update D on a real and a generated batch,
    then G on a fresh batch. ``updates="simultaneous"``: one real and one noise
    batch, both gradients taken at the same parameters, then both optimisers
    step (the update order of Metz et al.'s notebook and PacGAN's code).
    """

    description = "GAN with the non-saturating generator loss (Goodfellow et al. 2014)"
    option_defaults: dict = {}
    pack = 1  # samples D judges together (PacGAN sets it from its option)

    def __init__(self, config: TrainConfig, dataset: Dataset, device: torch.device) -> None:
        self.config = config
        self.dataset = dataset
        self.device = device
        self.options = self.resolve_options(config.options, data_kind(dataset))
        config.options = dict(self.options)  # config.json stores the options used, defaults too
        config.fill_defaults(dataset)
        config.validate()
        check_nets(config.nets, data_kind(dataset), config.d_width)
        self.objective = generator_objective(config.generator_objective)
        torch.manual_seed(config.seed)  # network initialisation
        self.generator = self.build_generator().to(device)
        self.discriminator = self.build_discriminator().to(device)
        self.optimizer_g, self.optimizer_d = self._optimizers()
        self.rng = torch.Generator().manual_seed(config.seed)  # real batches and noise, on the CPU
        self.train_set = self._train_set()
        self.step = 0

    def _optimizers(self) -> tuple[torch.optim.Adam, torch.optim.Adam]:
        config, betas = self.config, (self.config.beta1, self.config.beta2)
        return (
            torch.optim.Adam(self.generator.parameters(), config.lr_generator, betas=betas),
            torch.optim.Adam(self.discriminator.parameters(), config.lr_discriminator, betas=betas),
        )

    def _train_set(self) -> FixedTrainingSet | None:
        size = self.config.train_set_size
        if not size:
            return None
        return FixedTrainingSet(self.dataset, size, self.pack, self.config.seed)

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
        config = self.config
        return build_generator(config.nets, config.z_dim, self.dataset.sample_shape, config.hidden)

    def build_discriminator(self) -> nn.Module:
        config = self.config
        shape = self.dataset.sample_shape
        return build_discriminator(config.nets, shape, config.hidden, self.pack, config.d_width)

    # -- data --------------------------------------------------------------------
    def noise(self, n: int) -> torch.Tensor:
        return torch.randn(n, self.config.z_dim, generator=self.rng).to(self.device)  # (n, z_dim)

    def real_batch(self, n: int) -> torch.Tensor:
        if self.train_set is not None:
            return self.train_set.batch(n, self.rng).to(self.device)  # (n * pack, *sample_shape)
        return self.dataset.sample(n, generator=self.rng).to(self.device)  # (n, *sample_shape)

    def generate(self, z: torch.Tensor) -> torch.Tensor:
        """G's samples for noise ``z``; PacGAN generates its slots separately."""
        return self.generator(z)

    # -- one step ------------------------------------------------------------------
    def train_step(self) -> StepResult:
        if self.config.updates == "simultaneous":
            result = self.simultaneous_step()
        else:
            batch = self.config.batch_size
            real, z_d, z_g = self.real_batch(batch), self.noise(batch), self.noise(batch)
            loss_d, real_logits, fake_logits = self.discriminator_update(real, z_d)
            loss_g = self.generator_update(z_g, real)
            result = StepResult(loss_d, loss_g, real_logits, fake_logits)
        self.step += 1
        return StepResult(*(value.detach() for value in vars(result).values()))

    def discriminator_update(self, real: torch.Tensor, z: torch.Tensor):
        # Update D: maximize log D(x) + log(1 - D(G(z)))
        with torch.no_grad():
            fake = self.generate(z)
        real_logits = self.discriminator(real)
        fake_logits = self.discriminator(fake)
        loss = discriminator_loss(real_logits, fake_logits)
        self.optimizer_d.zero_grad(set_to_none=True)
        loss.backward()
        self.optimizer_d.step()
        return loss, real_logits, fake_logits

    def generator_update(self, z: torch.Tensor, real: torch.Tensor) -> torch.Tensor:
        # Update G: maximize log D(G(z)) (non-saturating) or minimize log(1 - D(G(z)))
        loss = self.generator_loss(z, real)
        self.optimizer_g.zero_grad(set_to_none=True)
        loss.backward()
        self.optimizer_g.step()
        return loss

    def simultaneous_step(self) -> StepResult:
        # D and G both step from the gradients at the current parameters of both, on one batch
        batch = self.config.batch_size
        real, z = self.real_batch(batch), self.noise(batch)
        fake = self.generate(z)  # carries G's graph
        real_logits, fake_logits = self.discriminator(real), self.discriminator(fake)
        loss_d = discriminator_loss(real_logits, fake_logits)
        loss_g = self.loss_of_generated(fake, real, fake_logits)
        parameters_d = list(self.discriminator.parameters())
        parameters_g = list(self.generator.parameters())
        gradients = torch.autograd.grad(loss_d, parameters_d, retain_graph=True)
        gradients += torch.autograd.grad(loss_g, parameters_g)
        for parameter, gradient in zip(parameters_d + parameters_g, gradients, strict=True):
            parameter.grad = gradient
        self.optimizer_d.step()
        self.optimizer_g.step()
        return StepResult(loss_d, loss_g, real_logits, fake_logits)

    def generator_loss(self, z: torch.Tensor, real: torch.Tensor) -> torch.Tensor:
        """The generator's objective at the current discriminator; ``real`` serves look-ahead variants."""
        return self.loss_of_generated(self.generate(z), real)

    def loss_of_generated(
        self, fake: torch.Tensor, real: torch.Tensor, fake_logits: torch.Tensor | None = None
    ) -> torch.Tensor:
        """G's objective on its samples ``fake`` (with graph); ``fake_logits``: D(fake), if known."""
        if fake_logits is None:
            fake_logits = self.discriminator(fake)
        return self.objective(fake_logits)

    # -- evaluation and state -------------------------------------------------------------
    def discriminator_logits_at(self, samples: torch.Tensor) -> torch.Tensor:
        """D's logit for each of ``samples`` (N, *sample_shape) -> (N,), for maps of D."""
        return self.discriminator(samples)

    def sampler(self, num_samples: int) -> FixedNoiseSampler:
        """Evaluation samples from a fixed noise batch, the same at every evaluation (PacGAN protocol)."""
        noise_rng = torch.Generator().manual_seed(self.config.seed + 1_000_003)
        noise = torch.randn(num_samples, self.config.z_dim, generator=noise_rng)
        batch = self.config.batch_size if self.config.eval_batch_norm == "batch" else None
        return FixedNoiseSampler(self.generator, noise, self.device, batch)

    def state_dict(self) -> dict:
        state = {"train_set": self.train_set.state_dict()} if self.train_set is not None else {}
        return {
            **state,
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
        if self.train_set is not None:
            self.train_set.load_state_dict(state["train_set"])


class FixedNoiseSampler:
    """``sample_fn(n)`` over a fixed noise batch: successive calls walk through it, wrapping around.

    ``batch_statistics`` (a batch size): G runs in training mode on batches of that
    size, so its batch norm uses each batch's own statistics, as the Metz/PacGAN
    stacked-MNIST code samples; its running statistics are left as they were.
    """

    def __init__(
        self,
        generator: nn.Module,
        noise: torch.Tensor,
        device: torch.device,
        batch_statistics: int | None = None,
    ) -> None:
        self.generator = generator  # found by the Monitor, which switches it to eval mode
        self.noise = noise  # (N, z_dim) on the CPU
        self.device = device
        self.batch_statistics = batch_statistics
        self.cursor = 0

    def __call__(self, n: int) -> torch.Tensor:
        index = (torch.arange(n) + self.cursor) % self.noise.shape[0]
        self.cursor = (self.cursor + n) % self.noise.shape[0]
        noise = self.noise[index].to(self.device)  # (n, z_dim)
        if self.batch_statistics is None:
            return self.generator(noise)
        return self._with_batch_statistics(noise)

    def _with_batch_statistics(self, noise: torch.Tensor) -> torch.Tensor:
        buffers = {name: b.clone() for name, b in self.generator.named_buffers()}
        was_training = self.generator.training
        self.generator.train()
        try:
            parts = [self.generator(part) for part in noise.split(self.batch_statistics)]
        finally:
            self.generator.train(was_training)
            for name, value in self.generator.named_buffers():
                value.copy_(buffers[name])
        return torch.cat(parts)  # (n, *sample_shape)


__all__ = [
    "DEFAULTS",
    "FixedNoiseSampler",
    "GANTrainer",
    "StepResult",
    "TrainConfig",
    "data_kind",
    "discriminator_loss",
    "generator_loss",
    "resolve_device",
]
