"""The 2-D networks of PacGAN's code (fjxmlzn/PacGAN, synthetic_data_experiments/*/pacgan_task.py).

- Generator: z (2) -> 4 x [linear without bias, batch norm, ReLU] of 400 units
  -> linear (with bias) to the data's dimension.
- Discriminator: 3 maxout layers (200 units of 5 pieces each: a linear layer to
  200 x 5 then the maximum over each unit's 5 consecutive pieces) -> linear logit.
  It reads ``pack`` samples concatenated (input ``pack * data_dim``).
- Init: every weight N(0, 0.02^2), every bias 0 (IsotropicGaussian(0.02),
  Constant(0)); batch norm scale 1, shift 0.

Batch norm follows Blocks' defaults where PyTorch can: epsilon 1e-4 and a
running average with momentum 0.05 (``m * 0.05 + p * 0.95`` in the code). Blocks
averages the population standard deviation, PyTorch the variance; evaluation
uses the running statistics in both.
"""

from __future__ import annotations

import torch
from torch import nn

WEIGHT_STD = 0.02  # weights_init_std
BATCH_NORM_EPS = 1e-4  # blocks.bricks.bn.BatchNormalization's epsilon
BATCH_NORM_MOMENTUM = 0.05  # bn_updates = m * 0.05 + p * 0.95
MAXOUT_PIECES = 5  # disc_maxout_pieces


class PacGANGenerator(nn.Module):
    """z (B, z_dim) -> sample (B, data_dim) through ``layers`` batch-normalised ReLU layers.

    Example:
        >>> PacGANGenerator(z_dim=2, data_dim=2)(torch.randn(8, 2)).shape
        torch.Size([8, 2])
    """

    def __init__(self, z_dim: int, data_dim: int, hidden: int = 400, layers: int = 4) -> None:
        super().__init__()
        modules: list[nn.Module] = []
        width = z_dim
        for _ in range(layers):
            modules += [
                nn.Linear(width, hidden, bias=False),
                nn.BatchNorm1d(hidden, eps=BATCH_NORM_EPS, momentum=BATCH_NORM_MOMENTUM),
                nn.ReLU(),
            ]
            width = hidden
        modules.append(nn.Linear(width, data_dim))
        self.net = gaussian_init(nn.Sequential(*modules))

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.net(z)  # (B, data_dim)


class Maxout(nn.Module):
    """A linear layer to ``units * pieces`` outputs, then the maximum over each unit's pieces."""

    def __init__(self, in_features: int, units: int, pieces: int = MAXOUT_PIECES) -> None:
        super().__init__()
        self.linear = nn.Linear(in_features, units * pieces)
        self.units, self.pieces = units, pieces

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        pieces = self.linear(x).view(-1, self.units, self.pieces)  # (B, units, pieces)
        return pieces.max(dim=2).values  # (B, units)


class MaxoutDiscriminator(nn.Module):
    """sample(s) (B, input_dim) -> logit (B,) through ``layers`` maxout layers.

    ``features`` returns the last maxout layer (B, hidden) so that minibatch
    discrimination can join it before the logit, as on the other nets.

    Example:
        >>> MaxoutDiscriminator(input_dim=4)(torch.randn(8, 4)).shape
        torch.Size([8])
    """

    def __init__(self, input_dim: int, hidden: int = 200, layers: int = 3) -> None:
        super().__init__()
        widths = [input_dim] + [hidden] * layers
        self.body = nn.Sequential(
            *(Maxout(a, b) for a, b in zip(widths[:-1], widths[1:], strict=True))
        )
        self.head = nn.Linear(hidden, 1)
        self.feature_dim = hidden
        gaussian_init(self)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x)  # (B, hidden)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x)).squeeze(1)  # (B,)


def gaussian_init(module: nn.Module, std: float = WEIGHT_STD) -> nn.Module:
    """Every linear weight N(0, std^2) and bias 0 (batch norm keeps scale 1, shift 0)."""
    for layer in module.modules():
        if isinstance(layer, nn.Linear):
            nn.init.normal_(layer.weight, std=std)
            if layer.bias is not None:
                nn.init.zeros_(layer.bias)
    return module
