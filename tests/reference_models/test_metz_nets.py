"""The Metz stacked-MNIST nets: channels per D width, shapes, TensorFlow SAME padding, init, bad input."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from collapsekit.errors import CollapsekitError
from reference_models.metz_nets import (
    MetzDiscriminator,
    MetzGenerator,
    same_conv,
    same_conv_transpose,
    same_padding,
)

EXPECTED_D_CHANNELS = {
    (28, "quarter"): [2, 4, 8],
    (28, "half"): [4, 8, 16],
    (28, "full"): [8, 16, 32],
    (8, "quarter"): [2, 4],
    (8, "half"): [4, 8],
    (8, "full"): [8, 16],
}


def layer_outputs(net: nn.Module, x: torch.Tensor, kind: type) -> list[tuple[int, ...]]:
    """Output shapes (without batch) of every ``kind`` layer, in order of execution."""
    shapes: list[tuple[int, ...]] = []
    hooks = [
        layer.register_forward_hook(lambda _m, _i, out: shapes.append(tuple(out.shape[1:])))
        for layer in net.modules()
        if isinstance(layer, kind)
    ]
    net(x)
    for hook in hooks:
        hook.remove()
    return shapes


@pytest.mark.parametrize(("side", "width"), list(EXPECTED_D_CHANNELS))
def test_discriminator_channels_per_width(side, width):
    d = MetzDiscriminator((3, side, side), width)
    convs = [layer for layer in d.modules() if isinstance(layer, nn.Conv2d)]
    assert [conv.out_channels for conv in convs] == EXPECTED_D_CHANNELS[side, width]
    assert [conv.in_channels for conv in convs][0] == 3
    norms = [layer.num_features for layer in d.modules() if isinstance(layer, nn.BatchNorm2d)]
    assert norms == EXPECTED_D_CHANNELS[side, width]  # batch norm on every layer, the first too
    assert all(
        layer.negative_slope == 0.3 for layer in d.modules() if isinstance(layer, nn.LeakyReLU)
    )
    sides = [shape[1] for shape in layer_outputs(d, torch.randn(4, 3, side, side), nn.Conv2d)]
    assert sides == ([14, 7, 4] if side == 28 else [4, 2])
    assert d.feature_dim == EXPECTED_D_CHANNELS[side, width][-1] * sides[-1] ** 2


def test_parameter_counts_match_the_tensorflow_code():
    # counted from model.py: conv weights + biases, batch norm gamma + beta, linear logit
    assert sum(p.numel() for p in MetzDiscriminator((3, 28, 28), "quarter").parameters()) == 585
    assert sum(p.numel() for p in MetzDiscriminator((3, 28, 28), "half").parameters()) == 1889
    assert sum(p.numel() for p in MetzGenerator(256, (3, 28, 28)).parameters()) == 287875


@pytest.mark.parametrize(
    ("side", "expected"),
    [
        (28, [(64, 4, 4), (32, 7, 7), (16, 14, 14), (8, 28, 28), (3, 28, 28)]),
        (8, [(32, 2, 2), (16, 4, 4), (8, 8, 8), (3, 8, 8)]),
    ],
)
def test_generator_levels_and_range(side, expected):
    g = MetzGenerator(256, (3, side, side))
    z = torch.randn(16, 256)
    norms = layer_outputs(g, z, nn.BatchNorm2d)
    assert norms + layer_outputs(g, z, nn.Tanh) == expected
    samples = g(z)
    assert samples.shape == (16, 3, side, side) and samples.abs().max() < 1


def test_packed_discriminator_reads_m_samples_along_channels():
    for pack in (1, 2, 4):
        d = MetzDiscriminator((3, 28, 28), "half", pack=pack)
        first = next(layer for layer in d.modules() if isinstance(layer, nn.Conv2d))
        assert first.in_channels == 3 * pack
        assert d(torch.randn(5, 3 * pack, 28, 28)).shape == (5,)
        assert d.features(torch.randn(5, 3 * pack, 28, 28)).shape == (5, 256)


def test_same_padding_puts_the_extra_pixel_after_as_tensorflow():
    assert [same_padding(28, 14), same_padding(14, 7), same_padding(7, 4)] == [
        (0, 1),
        (0, 1),
        (1, 1),
    ]
    conv = same_conv(1, 1, 28, 14)
    nn.init.ones_(conv[1].weight)
    nn.init.zeros_(conv[1].bias)
    for row in (0, 2, 27):
        impulse = torch.zeros(1, 1, 28, 28)
        impulse[0, 0, row, 5] = 1.0
        hit_rows = conv(impulse)[0, 0].sum(dim=1).nonzero().squeeze(1).tolist()
        # SAME pads 0 before: output row o reads input rows 2o, 2o + 1, 2o + 2
        assert hit_rows == [o for o in range(14) if 2 * o <= row <= 2 * o + 2]


@pytest.mark.parametrize(("size_in", "size_out"), [(4, 7), (7, 14), (14, 28), (2, 4), (4, 8)])
def test_transposed_conv_is_the_adjoint_of_the_same_conv(size_in, size_out):
    torch.manual_seed(0)
    up = same_conv_transpose(5, 3, size_in, size_out)
    down = same_conv(3, 5, size_out, size_in)
    down[1].weight.data.copy_(up[0].weight.data)  # the same (5, 3, 3, 3) kernel
    nn.init.zeros_(up[0].bias)
    nn.init.zeros_(down[1].bias)
    small = torch.randn(2, 5, size_in, size_in, dtype=torch.float64)
    large = torch.randn(2, 3, size_out, size_out, dtype=torch.float64)
    with torch.no_grad():
        upsampled, downsampled = up.double()(small), down.double()(large)
    assert upsampled.shape == large.shape
    assert float((upsampled * large).sum()) == pytest.approx(float((small * downsampled).sum()))


def test_init_follows_the_code():
    torch.manual_seed(0)
    g, d = MetzGenerator(256, (3, 28, 28)), MetzDiscriminator((3, 28, 28), "full")
    convs = [m for net in (g, d) for m in net.modules() if isinstance(m, nn.Conv2d)]
    conv_weights = torch.cat([conv.weight.detach().flatten() for conv in convs])
    assert float(conv_weights.abs().max()) <= 0.04  # truncated at 2 std
    normal = torch.cat(
        [
            m.weight.detach().flatten()
            for m in g.modules()
            if isinstance(m, (nn.ConvTranspose2d, nn.Linear))
        ]
    )
    assert float(normal.std()) == pytest.approx(0.02, rel=0.01)  # 288,000 draws
    assert float(normal.abs().max()) > 0.06  # not truncated
    biases = [m.bias for net in (g, d) for m in net.modules() if hasattr(m, "bias")]
    assert all(float(b.detach().abs().max()) == 0 for b in biases if b is not None)


def test_bad_width_and_shape_are_one_line_errors_listing_the_choices():
    with pytest.raises(CollapsekitError, match="choose one of: quarter, half, full") as error:
        MetzDiscriminator((3, 28, 28), "double")
    assert "\n" not in str(error.value)
    for shape in [(3, 32, 32), (3, 28, 27), (784,)]:
        with pytest.raises(CollapsekitError, match=r"\(C, 8, 8\) or \(C, 28, 28\)") as error:
            MetzGenerator(16, shape)
        assert str(shape) in str(error.value) and "\n" not in str(error.value)
    with pytest.raises(CollapsekitError, match="pack must be >= 1"):
        MetzDiscriminator((3, 8, 8), "half", pack=0)
