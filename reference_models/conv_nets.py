"""Networks for image benchmarks: small DCGAN-style conv nets (Radford et al. 2015).

Sized from the image side S: the nets work at ``S / 2**k`` ... ``S``, halving (D)
or doubling (G) the resolution ``k`` times, where ``k`` is how often S halves to an
integer side of at least 4 (8x8: k = 1, from 4x4; 28x28: k = 2, from 7x7;
32x32: k = 3, from 4x4). Channels double at every halving from ``width``.

- Generator: z -> linear -> (width * 2**k, s, s) -> k x [transposed conv 4x4
  stride 2, batch norm, ReLU] -> conv 3x3 to the image's channels -> tanh, so
  samples lie in [-1, 1] like the data.
- Discriminator: conv 3x3 (width) -> k x [conv 4x4 stride 2, LeakyReLU 0.2]
  -> flatten = ``features(x)`` (feature_dim = width * 2**k * s * s) -> linear logit.
  No batch norm in D: one sample's logit never depends on the rest of its batch
  (minibatch discrimination adds that dependence on purpose), and the unrolled
  look-ahead has no running statistics to carry.
"""

from __future__ import annotations

import torch
from torch import nn

import collapsekit

MIN_SIDE = 4  # the smallest side the nets work at
LEAKY_SLOPE = 0.2  # DCGAN's LeakyReLU slope in D


def resolution_steps(side: int) -> int:
    """How many times ``side`` halves to an integer side of at least 4: 8 -> 1, 28 -> 2, 32 -> 3.

    Example:
        >>> resolution_steps(8), resolution_steps(28), resolution_steps(32)
        (1, 2, 3)
    """
    steps = 0
    while side % 2 == 0 and side // 2 >= MIN_SIDE:
        side //= 2
        steps += 1
    return steps


def check_image_shape(sample_shape: tuple[int, ...]) -> tuple[int, int]:
    """(channels, side) of a square image shape (C, S, S); CollapsekitError for anything else."""
    shape = tuple(sample_shape)
    if len(shape) != 3 or shape[1] != shape[2] or shape[1] < MIN_SIDE:
        raise collapsekit.CollapsekitError(
            f"conv nets need square images (C, S, S) with S >= {MIN_SIDE}, got sample shape {shape}; "
            "use the MLP nets (reference_models.nets) for vector data"
        )
    return shape[0], shape[1]


class ConvGenerator(nn.Module):
    """z (B, z_dim) -> image (B, C, S, S) in [-1, 1].

    Example:
        >>> g = ConvGenerator(z_dim=16, sample_shape=(3, 8, 8), width=8)
        >>> g(torch.randn(2, 16)).shape
        torch.Size([2, 3, 8, 8])
    """

    def __init__(self, z_dim: int, sample_shape: tuple[int, ...], width: int = 64) -> None:
        super().__init__()
        channels, side = check_image_shape(sample_shape)
        steps = resolution_steps(side)
        self.start_side = side >> steps
        self.start_channels = width * 2**steps
        self.project = nn.Sequential(
            nn.Linear(z_dim, self.start_channels * self.start_side**2, bias=False),
            nn.BatchNorm1d(self.start_channels * self.start_side**2),
            nn.ReLU(),
        )
        layers: list[nn.Module] = []
        for step in range(steps, 0, -1):
            wide, narrow = width * 2**step, width * 2 ** (step - 1)
            layers += [
                nn.ConvTranspose2d(wide, narrow, 4, stride=2, padding=1, bias=False),
                nn.BatchNorm2d(narrow),
                nn.ReLU(),
            ]
        layers += [nn.Conv2d(width, channels, 3, padding=1), nn.Tanh()]
        self.body = nn.Sequential(*layers)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        start = self.project(z).view(
            -1, self.start_channels, self.start_side, self.start_side
        )  # (B, W*2^k, s, s)
        return self.body(start)  # (B, C, S, S)


class ConvDiscriminator(nn.Module):
    """image (B, C, S, S) -> logit (B,); ``features`` is the flattened last conv layer (B, feature_dim).

    Example:
        >>> d = ConvDiscriminator(sample_shape=(3, 8, 8), width=8)
        >>> d(torch.randn(2, 3, 8, 8)).shape, d.features(torch.randn(2, 3, 8, 8)).shape
        (torch.Size([2]), torch.Size([2, 256]))
    """

    def __init__(self, sample_shape: tuple[int, ...], width: int = 64) -> None:
        super().__init__()
        channels, side = check_image_shape(sample_shape)
        steps = resolution_steps(side)
        layers: list[nn.Module] = [
            nn.Conv2d(channels, width, 3, padding=1),
            nn.LeakyReLU(LEAKY_SLOPE),
        ]
        for step in range(steps):
            narrow, wide = width * 2**step, width * 2 ** (step + 1)
            layers += [nn.Conv2d(narrow, wide, 4, stride=2, padding=1), nn.LeakyReLU(LEAKY_SLOPE)]
        layers.append(nn.Flatten())
        self.body = nn.Sequential(*layers)
        self.feature_dim = width * 2**steps * (side >> steps) ** 2
        self.head = nn.Linear(self.feature_dim, 1)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x)  # (B, feature_dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x)).squeeze(1)  # (B,)
