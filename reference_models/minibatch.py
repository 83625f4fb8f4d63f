"""Minibatch discrimination (Salimans et al. 2016, section 3.2).

The discriminator sees, for every sample, how close it is to the other samples
of its batch, so a generator that puts a whole batch on one mode is easy to spot:

    M_i = f(x_i) T                                  f(x_i) in R^A, T in R^{A x B x C}, M_i in R^{B x C}
    c_b(x_i, x_j) = exp(-||M_i,b - M_j,b||_1)       one closeness per kernel b = 1..B
    o(x_i)_b = sum over j != i of c_b(x_i, x_j) + b_b   o(x_i) in R^B
    logit(x_i) = head([f(x_i), o(x_i)])             o joins f before the last layer

``MinibatchDiscriminator`` wraps any discriminator that has ``features(x)`` and
``feature_dim``; its own last layer is replaced by one that also reads ``o``.
Real and generated batches go through the discriminator separately, as in the
paper's code, so each sample is compared with its own kind.
"""

from __future__ import annotations

import torch
from torch import nn

import collapsekit
from reference_models.closeness import ClosenessSums
from reference_models.training import GANTrainer

DEFAULT_KERNELS = (
    100  # B: num_kernels in openai/improved-gan (train_cifar_minibatch_discrimination.py)
)
DEFAULT_KERNEL_DIM = 5  # C: dim_per_kernel in openai/improved-gan nn.py MinibatchLayer
# On 2-D data (batches of 512, Metz et al.'s protocol) B = 100 would cost N^2 B C = 131 million
# pair terms per discriminator pass, at least 0.6 s per training step on a CPU core (60x
# vanilla). B = 5 gives 6.6 million, the layer work of the authors' CIFAR setting (batch 100,
# B = 100, C = 5: 5.0 million), at 6.4x a vanilla step. Images keep the code's B = 100.
VECTOR_KERNELS = 5
THETA_INIT_STD = 0.05  # theta ~ N(0, 0.05^2): lasagne.init.Normal(0.05) in MinibatchLayer
BIAS_INIT = -1.0  # b = Constant(-1.), replaced by the data-dependent init
# The code's data-dependent init scales each kernel so that, on a batch of real data, the
# mean L1 distance from a sample to its nearest neighbour is 2 (c_b about exp(-2) there).
INIT_NEAREST_DISTANCE = 2.0
INIT_SEED_OFFSET = 2_000_003  # seed offset of the real batch used for that initialisation
# Kernels are handled a few at a time, with b*N*N at most this many pairs: one kernel at
# N = 512. A chunk's (b, N, N) tensors are then at most 1 MiB in float32, which the C
# allocator recycles; larger ones come fresh from the OS each time, and their page faults
# made every elementwise pass about 10x slower on a CPU (measured at 3 MiB).
CHUNK_PAIRS = 2**18


class MinibatchDiscrimination(nn.Module):
    """The minibatch layer of openai/improved-gan (nn.py MinibatchLayer): features (N, A) -> f (N, B).

    T is weight-normalised: ``T = theta * exp(log_weight_scale) / ||theta||``, the
    norm taken over the input axis A for each (kernel, dimension). Then
    ``f(x_i)_b = sum over j != i of exp(-||M_i,b - M_j,b||_1) + b_b``. Call
    ``initialise(features)`` once on real features: the code's data-dependent
    init, which sets the scale so the mean nearest-neighbour distance is 2 and
    the bias to minus the mean closeness sum, so f starts centred.

    Example:
        >>> layer = MinibatchDiscrimination(in_features=16, kernels=100, kernel_dim=5)
        >>> layer(torch.randn(8, 16)).shape
        torch.Size([8, 100])
    """

    def __init__(
        self, in_features: int, kernels: int = DEFAULT_KERNELS, kernel_dim: int = DEFAULT_KERNEL_DIM
    ) -> None:
        super().__init__()
        check_positive(in_features=in_features, kernels=kernels, kernel_dim=kernel_dim)
        self.kernels = kernels
        self.kernel_dim = kernel_dim
        self.theta = nn.Parameter(
            torch.randn(in_features, kernels, kernel_dim) * THETA_INIT_STD
        )  # (A, B, C)
        self.log_weight_scale = nn.Parameter(torch.zeros(kernels, kernel_dim))  # (B, C)
        self.bias = nn.Parameter(torch.full((kernels,), BIAS_INIT))  # (B,)

    def weight(self) -> torch.Tensor:
        """T (A, B, C): theta normalised over A, times exp(log_weight_scale)."""
        norm = self.theta.square().sum(dim=0).sqrt()  # (B, C)
        return self.theta * (self.log_weight_scale.exp() / norm)  # (A, B, C)

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        return self.closeness_sums(features) + self.bias  # (N, B)

    def closeness_sums(self, features: torch.Tensor) -> torch.Tensor:
        """(N, A) -> (N, B): sum over j != i of exp(-||M_i,b - M_j,b||_1), before the bias."""
        per_kernel = self._per_kernel(features)  # (B, N, C)
        size = features.shape[0]
        chunk = max(1, CHUNK_PAIRS // (size * size))
        sums = [ClosenessSums.apply(part) for part in per_kernel.split(chunk)]  # [(b, N)]
        return torch.cat(sums).transpose(0, 1)  # (N, B)

    def _per_kernel(self, features: torch.Tensor) -> torch.Tensor:
        features = features.flatten(1)  # (N, A)
        matrices = features @ self.weight().flatten(1)  # (N, B * C): M_i = f(x_i) T
        return matrices.view(-1, self.kernels, self.kernel_dim).transpose(0, 1)  # (B, N, C)

    @torch.no_grad()
    def initialise(self, features: torch.Tensor) -> torch.Tensor:
        """The code's data-dependent init on ``features`` (N, A); returns the distance scales (B,).

        ``mean_min = 0.5 * mean_i min_j ||M_i,b - M_j,b||_1``; ``log_weight_scale -=
        log(mean_min)``, so the mean nearest-neighbour distance becomes 2; then
        ``b = -mean_i f(x_i)``. Kernels whose samples all coincide keep their scale.
        """
        per_kernel = self._per_kernel(features)  # (B, N, C)
        distances = torch.cdist(per_kernel, per_kernel, p=1)  # (B, N, N)
        distances.diagonal(dim1=1, dim2=2).fill_(float("inf"))
        nearest = distances.min(dim=2).values.mean(dim=1)  # (B,)
        scale = torch.where(nearest > 0, nearest / INIT_NEAREST_DISTANCE, torch.ones_like(nearest))
        self.log_weight_scale.sub_(scale.log().unsqueeze(1))
        self.bias.copy_(-self.closeness_sums(features).mean(dim=0))
        return scale


class MinibatchDiscriminator(nn.Module):
    """Wraps a discriminator: logit = head([f(x), o(f(x))]) with o the minibatch layer.

    ``base`` needs ``features(x) -> (N, feature_dim)`` (or any shape that
    flattens to it) and ``feature_dim``; its own final layer goes unused.

    Example:
        >>> from reference_models.nets import MLPDiscriminator
        >>> d = MinibatchDiscriminator(MLPDiscriminator(data_dim=2), kernels=100, kernel_dim=5)
        >>> d(torch.randn(8, 2)).shape
        torch.Size([8])
    """

    def __init__(
        self, base: nn.Module, kernels: int = DEFAULT_KERNELS, kernel_dim: int = DEFAULT_KERNEL_DIM
    ) -> None:
        super().__init__()
        if not hasattr(base, "features") or not hasattr(base, "feature_dim"):
            raise collapsekit.CollapsekitError(
                f"{type(base).__name__} has no features(x) or feature_dim; minibatch discrimination "
                "needs a discriminator that exposes its last hidden layer"
            )
        self.base = base
        self.minibatch = MinibatchDiscrimination(base.feature_dim, kernels, kernel_dim)
        self.feature_dim = base.feature_dim + kernels
        self.head = nn.Linear(self.feature_dim, 1)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        features = self.base.features(x).flatten(1)  # (N, A)
        return torch.cat([features, self.minibatch(features)], dim=1)  # (N, A + B)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x)).squeeze(1)  # (N,)


class MinibatchGAN(GANTrainer):
    """Salimans et al. (2016): the vanilla GAN whose discriminator has a minibatch discrimination layer.

    Options ``kernels`` (B, default 100 on images, 5 on 2-D data; see VECTOR_KERNELS)
    and ``kernel_dim`` (C, default 5).
    """

    description = "GAN with minibatch discrimination before D's last layer (Salimans et al. 2016)"
    option_defaults = {"kernels": DEFAULT_KERNELS, "kernel_dim": DEFAULT_KERNEL_DIM}

    @classmethod
    def resolve_options(cls, options: dict, kind: str | None = None) -> dict:
        resolved = super().resolve_options(options, kind)
        if kind == "vector" and "kernels" not in options:
            resolved["kernels"] = VECTOR_KERNELS
        check_positive(kernels=resolved["kernels"], kernel_dim=resolved["kernel_dim"])
        return resolved

    def build_discriminator(self) -> nn.Module:
        discriminator = MinibatchDiscriminator(
            super().build_discriminator(), self.options["kernels"], self.options["kernel_dim"]
        )
        # Data-dependent init on one real batch, from its own generator: the stream of real
        # batches and noise stays the one every other model sees for this seed.
        rng = torch.Generator().manual_seed(self.config.seed + INIT_SEED_OFFSET)
        real = self.dataset.sample(self.config.batch_size, generator=rng)  # (N, *sample_shape)
        with torch.no_grad():
            discriminator.minibatch.initialise(discriminator.base.features(real))
        return discriminator


def check_positive(**values: object) -> None:
    """Raise CollapsekitError naming the first value that is not a positive integer."""
    for name, value in values.items():
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            flag = name.replace("_", "-")
            raise collapsekit.CollapsekitError(
                f"{name} must be a positive integer, got {value!r}; use e.g. --{flag} "
                f"{DEFAULT_KERNELS if name == 'kernels' else DEFAULT_KERNEL_DIM}"
            )
