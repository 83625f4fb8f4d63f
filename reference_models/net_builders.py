"""Network families by name (the ``nets`` setting), for generators and discriminators.

| nets | data | G | D |
|---|---|---|---|
| ``mlp`` | vector | 2 x ``hidden`` ReLU | 2 x ``hidden`` ReLU (PyTorch's default init) |
| ``mlp-tanh`` | vector | 2 x ``hidden`` tanh | 2 x ``hidden`` tanh (orthogonal init, gain 1.4) |
| ``pacgan-mlp`` | vector | 4 x ``hidden`` BN ReLU | 3 maxout layers of ``hidden / 2`` units, 5 pieces |
| ``dcgan`` | image | DCGAN-style conv (``hidden`` base width) | conv, LeakyReLU 0.2 |
| ``metz`` | image | Metz et al.'s stacked-MNIST G (64/32/16/8) | 3 convs of ``d_width``: quarter 2/4/8, half 4/8/16, full 8/16/32 |

``d_width`` applies to the ``metz`` nets only (their widths are the code's; ``hidden``
does not change them).

A discriminator built with ``pack = m`` reads m samples concatenated: m times the
input features of a vector, m times the channels of an image (PacGAN).
"""

from __future__ import annotations

from torch import nn

from collapsekit.errors import CollapsekitError
from reference_models.conv_nets import ConvDiscriminator, ConvGenerator
from reference_models.metz_nets import MetzDiscriminator, MetzGenerator
from reference_models.nets import MLPDiscriminator, MLPGenerator, orthogonal_init
from reference_models.pacgan_nets import MaxoutDiscriminator, PacGANGenerator

NETS = {  # name -> the kind of data it takes
    "mlp": "vector",
    "mlp-tanh": "vector",
    "pacgan-mlp": "vector",
    "dcgan": "image",
    "metz": "image",
}
DEFAULT_D_WIDTH = "quarter"  # the metz nets' D when none is given: PacGAN's D = 0.25G


def check_nets(nets: str, kind: str, d_width: str | None = None) -> None:
    """Raise CollapsekitError unless ``nets`` is a family for data of ``kind`` (and takes ``d_width``)."""
    fitting = [name for name, takes in NETS.items() if takes == kind]
    if nets not in NETS or NETS[nets] != kind:
        raise CollapsekitError(
            f"nets {nets!r} do not fit {kind} data; choose one of: {', '.join(fitting)}"
        )
    if d_width is not None and nets != "metz":
        raise CollapsekitError(
            f"a D width ({d_width}) applies to the metz nets only (--protocol metz), not to {nets}"
        )


def build_generator(nets: str, z_dim: int, sample_shape: tuple, hidden: int) -> nn.Module:
    """The generator of family ``nets``: z (B, z_dim) -> samples (B, *sample_shape)."""
    if nets == "dcgan":
        return ConvGenerator(z_dim, sample_shape, hidden)
    if nets == "metz":
        return MetzGenerator(z_dim, sample_shape)
    (data_dim,) = sample_shape
    if nets == "pacgan-mlp":
        return PacGANGenerator(z_dim, data_dim, hidden)
    if nets == "mlp-tanh":
        return orthogonal_init(MLPGenerator(z_dim, data_dim, hidden, activation=nn.Tanh))
    return MLPGenerator(z_dim, data_dim, hidden)


def build_discriminator(
    nets: str, sample_shape: tuple, hidden: int, pack: int = 1, d_width: str | None = None
) -> nn.Module:
    """The discriminator of family ``nets`` for ``pack`` samples concatenated -> logits (B,)."""
    if nets == "metz":
        return MetzDiscriminator(sample_shape, d_width or DEFAULT_D_WIDTH, pack)
    if nets == "dcgan":
        channels, *side = sample_shape
        return ConvDiscriminator((channels * pack, *side), hidden)
    (data_dim,) = sample_shape
    if nets == "pacgan-mlp":
        return MaxoutDiscriminator(data_dim * pack, max(1, hidden // 2))
    if nets == "mlp-tanh":
        return orthogonal_init(MLPDiscriminator(data_dim * pack, hidden, activation=nn.Tanh))
    return MLPDiscriminator(data_dim * pack, hidden)
