"""Networks for 2-D benchmarks: small MLPs after Metz et al. (2016)."""

from __future__ import annotations

import torch
from torch import nn


class MLPGenerator(nn.Module):
    """z (B, z_dim) -> sample (B, data_dim) through ``layers`` hidden ReLU layers."""

    def __init__(self, z_dim: int, data_dim: int, hidden: int = 128, layers: int = 2) -> None:
        super().__init__()
        self.net = _mlp(z_dim, hidden, layers, data_dim)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.net(z)  # (B, data_dim)


class MLPDiscriminator(nn.Module):
    """sample (B, data_dim) -> logit (B,) through ``layers`` hidden ReLU layers.

    ``features`` returns the last hidden layer (B, hidden) so that variants can
    add to it before the final linear layer (minibatch discrimination does).
    """

    def __init__(self, data_dim: int, hidden: int = 128, layers: int = 2) -> None:
        super().__init__()
        self.body = _mlp(data_dim, hidden, layers - 1, hidden, final_activation=True)
        self.head = nn.Linear(hidden, 1)
        self.feature_dim = hidden

    def features(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x)  # (B, hidden)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x)).squeeze(1)  # (B,)


def _mlp(
    in_dim: int, hidden: int, layers: int, out_dim: int, final_activation: bool = False
) -> nn.Sequential:
    modules: list[nn.Module] = []
    width = in_dim
    for _ in range(layers):
        modules += [nn.Linear(width, hidden), nn.ReLU()]
        width = hidden
    modules.append(nn.Linear(width, out_dim))
    if final_activation:
        modules.append(nn.ReLU())
    return nn.Sequential(*modules)
