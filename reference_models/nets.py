"""Networks for 2-D benchmarks: small MLPs after Metz et al. (2016).

``activation`` is ReLU (collapsekit's default nets) or tanh (Metz et al.'s notebook,
which also initialises every weight orthogonally with gain 1.4: ``orthogonal_init``).
"""

from __future__ import annotations

import torch
from torch import nn


class MLPGenerator(nn.Module):
    """z (B, z_dim) -> sample (B, data_dim) through ``layers`` hidden ReLU layers."""

    def __init__(
        self, z_dim: int, data_dim: int, hidden: int = 128, layers: int = 2, activation=nn.ReLU
    ) -> None:
        super().__init__()
        self.net = _mlp(z_dim, hidden, layers, data_dim, activation=activation)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.net(z)  # (B, data_dim)


class MLPDiscriminator(nn.Module):
    """sample (B, data_dim) -> logit (B,) through ``layers`` hidden ReLU layers.

    ``features`` returns the last hidden layer (B, hidden) so that variants can
    add to it before the final linear layer (minibatch discrimination does).
    """

    def __init__(
        self, data_dim: int, hidden: int = 128, layers: int = 2, activation=nn.ReLU
    ) -> None:
        super().__init__()
        self.body = _mlp(data_dim, hidden, layers - 1, hidden, True, activation)
        self.head = nn.Linear(hidden, 1)
        self.feature_dim = hidden

    def features(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x)  # (B, hidden)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x)).squeeze(1)  # (B,)


def orthogonal_init(module: nn.Module, gain: float = 1.4) -> nn.Module:
    """Every linear weight orthogonal with ``gain``, every bias 0 (tf.orthogonal_initializer(1.4)
    and slim's zero biases in Metz et al.'s notebook); returns ``module``."""
    for layer in module.modules():
        if isinstance(layer, nn.Linear):
            nn.init.orthogonal_(layer.weight, gain=gain)
            nn.init.zeros_(layer.bias)
    return module


def _mlp(
    in_dim: int,
    hidden: int,
    layers: int,
    out_dim: int,
    final_activation: bool = False,
    activation=nn.ReLU,
) -> nn.Sequential:
    modules: list[nn.Module] = []
    width = in_dim
    for _ in range(layers):
        modules += [nn.Linear(width, hidden), activation()]
        width = hidden
    modules.append(nn.Linear(width, out_dim))
    if final_activation:
        modules.append(activation())
    return nn.Sequential(*modules)
