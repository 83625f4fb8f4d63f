"""The nets of Metz et al.'s stacked-MNIST experiment, as PacGAN's code builds them.

Source: fjxmlzn/PacGAN, ``stacked_MNIST_experiments/unrolled_GAN_experiment/D=0.25G``
and ``D=0.5G`` (``model.py`` and ``ops.py``, TensorFlow). For 28 x 28 images (C channels):

- Generator: z -> linear -> (64, 4, 4) -> batch norm, ReLU -> three transposed convs
  (3 x 3, stride 2) to (32, 7, 7), (16, 14, 14), (8, 28, 28), each followed by batch
  norm and ReLU -> conv 3 x 3 (stride 1) to C channels -> tanh.
- Discriminator: three convs (3 x 3, stride 2) 28 -> 14 -> 7 -> 4 with ``d_width``
  channels, each followed by batch norm (the first layer too) and LeakyReLU 0.3
  -> flatten -> linear logit. ``quarter`` = 2/4/8 channels (the code's D = 0.25G),
  ``half`` = 4/8/16 (D = 0.5G), ``full`` = 8/16/32: not in the code, the natural
  "D = G" point, where D's widths equal G's transposed convs' 32/16/8 in reverse.
- Padding: TensorFlow's ``SAME``. A stride-2 conv pads ``total = max((out - 1) * 2 + 3 - in, 0)``
  pixels, ``total // 2`` before and the rest after (28 -> 14 and 14 -> 7 pad 0
  before and 1 after; 7 -> 4 pads 1 and 1). A transposed conv is that conv's
  adjoint: PyTorch's unpadded transposed conv (size ``2 * in + 1``) cropped to
  ``[total // 2, total // 2 + out)`` (4 -> 7 keeps 1..7; 7 -> 14 and 14 -> 28 keep
  0..out-1). PyTorch's symmetric ``padding=1`` would shift the 14- and 28-pixel layers
  by one pixel against the code.
- Init: conv weights truncated normal (std 0.02, cut at 2 std), transposed-conv and
  linear weights normal (std 0.02), every bias 0, batch norm scale 1 and shift 0
  (momentum 0.1 = TensorFlow's decay 0.9, epsilon 1e-5).

For 8 x 8 stacked digits the same design has one fewer resolution step: the
coarsest level of both nets is dropped. G: linear -> (32, 2, 2) -> transposed convs
to (16, 4, 4) and (8, 8, 8) -> conv to C -> tanh; D: convs 8 -> 4 -> 2 with the first
two widths of ``d_width`` (quarter 2/4, half 4/8, full 8/16) -> linear logit. D
keeps a quarter / half / all of the widths of G's transposed convs, as at 28 x 28.

With ``pack = m`` the discriminator reads m samples concatenated along channels
(C * m input channels), as PacGAN's ``packing_num`` does.

Note for trainers: the code keeps batch norm in training mode when it samples for
evaluation (``is_training=True`` in ``sampler``), so G's samples use the
statistics of their batch of 128.
"""

from __future__ import annotations

import torch
from torch import nn

import collapsekit

D_WIDTHS = {"quarter": (2, 4, 8), "half": (4, 8, 16), "full": (8, 16, 32)}
G_WIDTHS = (64, 32, 16, 8)  # the linear layer's channels, then each transposed conv's
RESOLUTION_STEPS = {28: 3, 8: 2}  # image side -> stride-2 layers in each net
KERNEL = 3
STRIDE = 2
WEIGHT_STD = 0.02
LEAKY_SLOPE = 0.3


def check_metz_shape(sample_shape: tuple[int, ...], d_width: str = "quarter") -> tuple[int, int]:
    """(channels, side) of a (C, S, S) shape the Metz nets take; CollapsekitError listing the valid choices.

    Example:
        >>> check_metz_shape((3, 28, 28), "half")
        (3, 28)
    """
    if d_width not in D_WIDTHS:
        raise collapsekit.CollapsekitError(
            f"unknown D width {d_width!r}; choose one of: {', '.join(D_WIDTHS)}"
        )
    shape = tuple(sample_shape)
    if len(shape) != 3 or shape[1] != shape[2] or shape[1] not in RESOLUTION_STEPS:
        sides = " or ".join(f"(C, {side}, {side})" for side in sorted(RESOLUTION_STEPS))
        raise collapsekit.CollapsekitError(
            f"the Metz nets take images of shape {sides}, got sample shape {shape}; "
            "use stacked-digits (8 x 8), stacked-mnist or stacked-fashion (28 x 28)"
        )
    return shape[0], shape[1]


def resolution_sides(side: int) -> list[int]:
    """The sides D works at, from the image down, halving with rounding up: 28 -> [28, 14, 7, 4].

    Example:
        >>> resolution_sides(8)
        [8, 4, 2]
    """
    sides = [side]
    for _ in range(RESOLUTION_STEPS[side]):
        sides.append(-(-sides[-1] // STRIDE))
    return sides


def same_padding(size_in: int, size_out: int) -> tuple[int, int]:
    """TensorFlow's SAME padding (before, after) of a 3 x 3 stride-2 conv from ``size_in`` to ``size_out``.

    Example:
        >>> same_padding(28, 14), same_padding(7, 4)
        ((0, 1), (1, 1))
    """
    total = max((size_out - 1) * STRIDE + KERNEL - size_in, 0)
    return total // 2, total - total // 2


class Crop(nn.Module):
    """Keep rows and columns ``start .. start + size - 1`` of (B, C, H, W)."""

    def __init__(self, start: int, size: int) -> None:
        super().__init__()
        self.start, self.size = start, size

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        end = self.start + self.size
        return x[:, :, self.start : end, self.start : end]


def same_conv(channels_in: int, channels_out: int, size_in: int, size_out: int) -> nn.Sequential:
    """3 x 3 stride-2 conv with TensorFlow's SAME padding: (B, in, size_in, size_in) -> (B, out, size_out, size_out)."""
    before, after = same_padding(size_in, size_out)
    conv = nn.Conv2d(channels_in, channels_out, KERNEL, stride=STRIDE)
    return nn.Sequential(nn.ZeroPad2d((before, after, before, after)), conv)


def same_conv_transpose(
    channels_in: int, channels_out: int, size_in: int, size_out: int
) -> nn.Sequential:
    """The adjoint of ``same_conv(out, in, size_out, size_in)``: (B, in, size_in, ...) -> (B, out, size_out, ...)."""
    before, _ = same_padding(size_out, size_in)
    transpose = nn.ConvTranspose2d(channels_in, channels_out, KERNEL, stride=STRIDE)
    return nn.Sequential(transpose, Crop(before, size_out))


def metz_init(module: nn.Module) -> nn.Module:
    """The code's init: conv weights truncated normal, transposed conv and linear normal, std 0.02; biases 0."""
    for layer in module.modules():
        if isinstance(layer, nn.Conv2d):
            nn.init.trunc_normal_(layer.weight, std=WEIGHT_STD, a=-2 * WEIGHT_STD, b=2 * WEIGHT_STD)
        elif isinstance(layer, (nn.ConvTranspose2d, nn.Linear)):
            nn.init.normal_(layer.weight, std=WEIGHT_STD)
        if isinstance(layer, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
            nn.init.zeros_(layer.bias)
    return module


class MetzGenerator(nn.Module):
    """z (B, z_dim) -> image (B, C, S, S) in [-1, 1], S = 28 or 8.

    Example:
        >>> g = MetzGenerator(z_dim=256, sample_shape=(3, 28, 28))
        >>> g(torch.randn(2, 256)).shape
        torch.Size([2, 3, 28, 28])
    """

    def __init__(self, z_dim: int, sample_shape: tuple[int, ...]) -> None:
        super().__init__()
        channels, side = check_metz_shape(sample_shape)
        sides = resolution_sides(side)[::-1]  # coarse to fine: [4, 7, 14, 28]
        widths = G_WIDTHS[-len(sides) :]  # [64, 32, 16, 8] at 28 x 28, [32, 16, 8] at 8 x 8
        self.start_shape = (widths[0], sides[0], sides[0])
        self.project = nn.Linear(z_dim, widths[0] * sides[0] ** 2)
        layers: list[nn.Module] = [nn.BatchNorm2d(widths[0]), nn.ReLU()]
        for step in range(1, len(sides)):
            layers += [
                same_conv_transpose(widths[step - 1], widths[step], sides[step - 1], sides[step]),
                nn.BatchNorm2d(widths[step]),
                nn.ReLU(),
            ]
        layers += [nn.Conv2d(widths[-1], channels, KERNEL, padding=1), nn.Tanh()]
        self.body = nn.Sequential(*layers)
        metz_init(self)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        start = self.project(z).view(-1, *self.start_shape)  # (B, 64, 4, 4) at 28 x 28
        return self.body(start)  # (B, C, S, S)


class MetzDiscriminator(nn.Module):
    """image(s) (B, C * pack, S, S) -> logit (B,); ``features`` is the flattened last conv layer.

    Example:
        >>> d = MetzDiscriminator(sample_shape=(3, 28, 28), d_width="quarter", pack=2)
        >>> d(torch.randn(4, 6, 28, 28)).shape, d.feature_dim
        (torch.Size([4]), 128)
    """

    def __init__(
        self, sample_shape: tuple[int, ...], d_width: str = "quarter", pack: int = 1
    ) -> None:
        super().__init__()
        channels, side = check_metz_shape(sample_shape, d_width)
        if pack < 1:
            raise collapsekit.CollapsekitError(f"pack must be >= 1 samples, got {pack}")
        sides = resolution_sides(side)  # fine to coarse: [28, 14, 7, 4]
        widths = (channels * pack, *D_WIDTHS[d_width][: len(sides) - 1])
        layers: list[nn.Module] = []
        for step in range(1, len(sides)):
            layers += [
                same_conv(widths[step - 1], widths[step], sides[step - 1], sides[step]),
                nn.BatchNorm2d(widths[step]),
                nn.LeakyReLU(LEAKY_SLOPE),
            ]
        layers.append(nn.Flatten())
        self.body = nn.Sequential(*layers)
        self.feature_dim = widths[-1] * sides[-1] ** 2
        self.head = nn.Linear(self.feature_dim, 1)
        metz_init(self)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x)  # (B, feature_dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x)).squeeze(1)  # (B,)
