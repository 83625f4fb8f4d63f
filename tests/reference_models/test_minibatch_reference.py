"""The minibatch layer against a numpy transcription of openai/improved-gan's MinibatchLayer.

``improved_gan_layer`` is ``mnist_svhn_cifar10/nn.py`` MinibatchLayer.get_output_for,
line by line in numpy (Theano's dimshuffle as numpy axes), with its ``init=True``
branch that returns the data-dependent updates of log_weight_scale and b.
"""

import numpy as np
import torch

from reference_models.minibatch import MinibatchDiscrimination


def improved_gan_layer(inputs, theta, log_weight_scale, b, init=False):
    """Returns (output = concat(input, f), updates) as the Lasagne layer computes them."""
    W = theta * (np.exp(log_weight_scale) / np.sqrt(np.sum(np.square(theta), axis=0)))[None]
    activation = np.tensordot(inputs, W, axes=[[1], [0]])  # (N, B, C)
    abs_dif = np.sum(
        np.abs(activation[:, :, :, None] - activation.transpose(1, 2, 0)[None]), axis=2
    ) + 1e6 * np.eye(inputs.shape[0])[:, None, :]  # (N, B, N)
    updates = {}
    if init:
        mean_min_abs_dif = 0.5 * np.mean(np.min(abs_dif, axis=2), axis=0)  # (B,)
        abs_dif = abs_dif / mean_min_abs_dif[None, :, None]
        updates["log_weight_scale"] = log_weight_scale - np.log(mean_min_abs_dif)[:, None]
    f = np.sum(np.exp(-abs_dif), axis=2)  # (N, B)
    if init:
        mf = np.mean(f, axis=0)
        f = f - mf[None, :]
        updates["b"] = -mf
    else:
        f = f + b[None, :]
    return np.concatenate([inputs, f], axis=1), updates


def make_layer(seed: int = 0) -> MinibatchDiscrimination:
    torch.manual_seed(seed)
    layer = MinibatchDiscrimination(in_features=6, kernels=7, kernel_dim=3).double()
    with torch.no_grad():  # a scale other than 1 and a bias other than -1, to test the formula
        layer.log_weight_scale.normal_(0.0, 0.3)
        layer.bias.normal_(0.0, 1.0)
    return layer


def parameters(layer: MinibatchDiscrimination) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return tuple(p.detach().numpy().copy() for p in (layer.theta, layer.log_weight_scale, layer.bias))


def test_forward_equals_the_authors_layer_on_the_same_weights():
    layer = make_layer()
    inputs = np.random.default_rng(0).normal(size=(11, 6))
    expected, _ = improved_gan_layer(inputs, *parameters(layer))
    ours = layer(torch.from_numpy(inputs)).detach().numpy()
    np.testing.assert_allclose(ours, expected[:, 6:], rtol=1e-12, atol=1e-12)


def test_initialisation_equals_the_authors_init_updates_and_output():
    layer = make_layer(seed=1)
    inputs = np.random.default_rng(1).normal(size=(20, 6))
    init_output, updates = improved_gan_layer(inputs, *parameters(layer), init=True)
    layer.initialise(torch.from_numpy(inputs))
    theta, log_weight_scale, b = parameters(layer)
    np.testing.assert_allclose(log_weight_scale, updates["log_weight_scale"], rtol=1e-12)
    np.testing.assert_allclose(b, updates["b"], rtol=1e-10, atol=1e-12)
    # The init pass's own output (centred f) equals the layer's output after the updates.
    ours = layer(torch.from_numpy(inputs)).detach().numpy()
    np.testing.assert_allclose(ours, init_output[:, 6:], rtol=1e-9, atol=1e-10)
    after, _ = improved_gan_layer(inputs, theta, log_weight_scale, b)
    np.testing.assert_allclose(ours, after[:, 6:], rtol=1e-12, atol=1e-12)


def test_weight_is_normalised_over_the_input_axis():
    layer = make_layer()
    norms = layer.weight().detach().square().sum(dim=0).sqrt()  # (B, C)
    torch.testing.assert_close(norms, layer.log_weight_scale.detach().exp())
