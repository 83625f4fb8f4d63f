"""PacGAN (Lin et al. 2018): the discriminator judges m samples packed together.

Everything else is the GAN's: the generator, its loss and the update order. A
batch of B decisions reads B x m real samples and B x m generated ones, drawn as
m slots of B each. Packed row i is (slot 0's sample i, slot 1's sample i, ...)
concatenated: along features for vectors, along channels for images (PacGAN's
code: ``tensor.concatenate(x_tildes, axis=1)``). The generator runs once per slot,
as the code applies its decoder to each of the m noise batches, so its batch
norm sees batches of B.

Example:
    >>> pack(torch.arange(6.0).view(6, 1), 3).tolist()  # slots [0, 1], [2, 3], [4, 5]
    [[0.0, 2.0, 4.0], [1.0, 3.0, 5.0]]
"""

from __future__ import annotations

import torch
from torch import nn

import collapsekit
from reference_models.training import GANTrainer

DEFAULT_PACK = 2  # PacGAN2, the paper's headline row


def pack(samples: torch.Tensor, slots: int) -> torch.Tensor:
    """(m * B, *shape) slot-major -> (B, m * shape[0], *shape[1:]): row i joins each slot's sample i."""
    size = samples.shape[0] // slots
    grouped = samples.view(slots, size, *samples.shape[1:])  # (m, B, *shape)
    return torch.cat(list(grouped), dim=1)  # (B, m * shape[0], *shape[1:])


class PackedDiscriminator(nn.Module):
    """Wraps a discriminator of ``m * C`` input features: (m * B, C, ...) samples -> (B,) logits.

    ``single(x)`` scores each sample packed with m - 1 copies of itself: the
    discriminator's view of a generator that puts all m samples at x (used for
    maps of D over the plane).
    """

    def __init__(self, inner: nn.Module, slots: int) -> None:
        super().__init__()
        self.inner = inner
        self.slots = slots

    def forward(self, samples: torch.Tensor) -> torch.Tensor:
        return self.inner(pack(samples, self.slots))  # (B,)

    def single(self, samples: torch.Tensor) -> torch.Tensor:
        return self.inner(torch.cat([samples] * self.slots, dim=1))  # (N,)


class PacGAN(GANTrainer):
    """The GAN whose discriminator judges ``pack`` samples at once (Lin et al. 2018).

    Option ``pack`` (m, default 2); m = 1 is exactly the GAN.
    """

    description = "GAN whose discriminator judges m samples packed together (Lin et al. 2018)"
    option_defaults = {"pack": DEFAULT_PACK}

    def __init__(self, config, dataset, device) -> None:
        self.pack = self.resolve_options(config.options)["pack"]  # before the nets are built
        super().__init__(config, dataset, device)

    @classmethod
    def resolve_options(cls, options: dict, kind: str | None = None) -> dict:
        resolved = super().resolve_options(options, kind)
        slots = resolved["pack"]
        if not isinstance(slots, int) or isinstance(slots, bool) or slots < 1:
            raise collapsekit.CollapsekitError(
                f"pack must be a positive integer, got {slots!r}; use e.g. --pack {DEFAULT_PACK}"
            )
        return resolved

    def build_discriminator(self) -> nn.Module:
        return PackedDiscriminator(super().build_discriminator(), self.pack)

    def noise(self, n: int) -> torch.Tensor:
        return super().noise(n * self.pack)  # (m * n, z_dim): m slots of n

    def real_batch(self, n: int) -> torch.Tensor:
        if self.train_set is not None:  # its rows are packed already: n rows of m points
            return super().real_batch(n)
        return super().real_batch(n * self.pack)  # (m * n, *sample_shape)

    def generate(self, z: torch.Tensor) -> torch.Tensor:
        return torch.cat([self.generator(slot) for slot in z.chunk(self.pack)])  # (m * n, ...)

    def discriminator_logits_at(self, samples: torch.Tensor) -> torch.Tensor:
        return self.discriminator.single(samples)  # each sample packed with copies of itself
