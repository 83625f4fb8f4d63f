"""Minibatch discrimination (Salimans et al. 2016, section 3.2).

The discriminator sees, for every sample, how close it is to the other samples
of its batch, so a generator that puts a whole batch on one mode is easy to spot:

    M_i = f(x_i) T                                  f(x_i) in R^A, T in R^{A x B x C}, M_i in R^{B x C}
    c_b(x_i, x_j) = exp(-||M_i,b - M_j,b||_1)       one closeness per kernel b = 1..B
    o(x_i)_b = sum over j != i of c_b(x_i, x_j)     o(x_i) in R^B
    logit(x_i) = head([f(x_i), o(x_i)])             o joins f before the last layer

``MinibatchDiscriminator`` wraps any discriminator that has ``features(x)`` and
``feature_dim``; its own last layer is replaced by one that also reads ``o``.
Real and generated batches go through the discriminator separately, as in the
paper's code, so each sample is compared with its own kind.
"""

from __future__ import annotations

import math

import torch
from torch import nn

import collapsekit
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
TENSOR_INIT_STD = 0.05  # T ~ N(0, 0.05^2), the init of theta in MinibatchLayer
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
    """The minibatch layer: features (N, A) -> o (N, B), each sample's closeness to the rest of its batch.

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
        self.tensor = nn.Parameter(
            torch.randn(in_features, kernels, kernel_dim) * TENSOR_INIT_STD
        )  # (A, B, C)

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        per_kernel = self._per_kernel(features)  # (B, N, C)
        size = features.shape[0]
        chunk = max(1, CHUNK_PAIRS // (size * size))
        sums = [ClosenessSums.apply(part) for part in per_kernel.split(chunk)]  # [(b, N)]
        return torch.cat(sums).transpose(0, 1)  # (N, B)

    def _per_kernel(self, features: torch.Tensor) -> torch.Tensor:
        features = features.flatten(1)  # (N, A)
        matrices = features @ self.tensor.flatten(1)  # (N, B * C): M_i = f(x_i) T
        return matrices.view(-1, self.kernels, self.kernel_dim).transpose(0, 1)  # (B, N, C)

    @torch.no_grad()
    def initialise_scale(self, features: torch.Tensor) -> torch.Tensor:
        """Rescale each kernel of T so that on ``features`` (N, A) the mean nearest-neighbour distance is 2.

        The data-dependent initialisation of the authors' code, without which the
        layer starts with every c_b near 1 (o near N - 1) and huge logits. Kernels
        whose samples all coincide keep their scale. Returns the factors (B,).
        """
        per_kernel = self._per_kernel(features)  # (B, N, C)
        distances = torch.cdist(per_kernel, per_kernel, p=1)  # (B, N, N)
        distances.diagonal(dim1=1, dim2=2).fill_(float("inf"))
        nearest = distances.min(dim=2).values.mean(dim=1)  # (B,)
        factors = torch.where(
            nearest > 0, INIT_NEAREST_DISTANCE / nearest, torch.ones_like(nearest)
        )
        self.tensor.mul_(factors.view(1, -1, 1))
        return factors


class ClosenessSums(torch.autograd.Function):
    """(b, N, C) rows M_i,b of some kernels -> (b, N) sums over j != i of exp(-||M_i,b - M_j,b||_1).

    The L1 distances come from ``torch.cdist`` (p = 1), which never builds the
    (b, N, N, C) differences that plain autograd would build and keep. The
    gradient is written out: with G = dL/do and c the closeness,

        dL/dM_i,c = sum over j of -(G_i + G_j) c_ij sign(M_i,c - M_j,c),

    one call of cdist's own backward with the symmetric weights -(G_i + G_j) c_ij
    (the distance matrix depends on M through both of its arguments). Together
    about 10x faster than autograd through the differences on a CPU, and equal to
    it to rounding (tested against the formula and by gradcheck).
    """

    @staticmethod
    def forward(ctx, per_kernel: torch.Tensor) -> torch.Tensor:
        distances = torch.cdist(per_kernel, per_kernel, p=1)  # (b, N, N), exactly 0 on the diagonal
        # c_b(x_i, x_j) = exp(-distance). Distances past -log(smallest normal number) - 1 (86.3
        # in float32) count as that distance: their closeness would be a subnormal number below
        # 3.2e-38, which x86 CPUs compute about 10x slower than a normal one. (Far pairs are
        # the common case once D has trained: most of them, on ring8.)
        cutoff = -math.log(torch.finfo(distances.dtype).tiny) - 1.0
        closeness = distances.clamp(max=cutoff).neg_().exp_()
        closeness.diagonal(dim1=1, dim2=2).zero_()  # a sample is not compared with itself
        ctx.save_for_backward(per_kernel, distances, closeness)
        return closeness.sum(dim=2)

    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> torch.Tensor:
        per_kernel, distances, closeness = ctx.saved_tensors
        weights = (grad.neg().unsqueeze(2) - grad.unsqueeze(1)).mul_(closeness)  # (b, N, N) dL/dD
        return torch.ops.aten._cdist_backward(
            weights.contiguous(), per_kernel.contiguous(), per_kernel.contiguous(), 1.0, distances
        )


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
            discriminator.minibatch.initialise_scale(discriminator.base.features(real))
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
