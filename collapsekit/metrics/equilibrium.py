"""Equilibrium statistics of discriminator outputs.

At the optimum of the original GAN game D = p_data / (p_data + p_g) = 1/2 and
the summed BCE loss of D is 2 log 2. These functions summarise per-step means of
sigmoid(D) on real and generated batches over a window of steps.
"""

from __future__ import annotations

import math

import torch

from collapsekit.metrics import keys

EQUILIBRIUM = 0.5
OPTIMAL_D_LOSS = 2 * math.log(2)  # summed BCE of D on real and fake at equilibrium


def to_probabilities(outputs: torch.Tensor, kind: str = "logits") -> torch.Tensor:
    """Mean of sigmoid(outputs) (``kind="logits"``) or of outputs (``"probs"``) as a 0-d tensor.

    Stays on the outputs' device and outside any autograd graph, so calling it
    every step costs one reduction and no synchronisation.
    """
    outputs = outputs.detach()
    if kind == "logits":
        return torch.sigmoid(outputs.float()).mean()
    if kind == "probs":
        return outputs.float().mean()
    raise ValueError(f"kind must be 'logits' or 'probs', got {kind!r}")


def window_statistics(d_real: torch.Tensor, d_fake: torch.Tensor) -> dict[str, float]:
    """Summarise per-step means over a window: mean, gap and spread.

    Args:
        d_real: (S,) per-step mean sigmoid(D(x)).
        d_fake: (S,) per-step mean sigmoid(D(G(z))).

    Example:
        >>> window_statistics(torch.tensor([0.9, 0.7]), torch.tensor([0.1, 0.3]))["d_gap"]
        0.6
    """
    d_real = d_real.to(torch.float64)
    d_fake = d_fake.to(torch.float64)
    if d_real.numel() == 0:
        nan = math.nan
        return {keys.D_REAL: nan, keys.D_FAKE: nan, keys.D_GAP: nan, keys.D_REAL_STD: nan, keys.D_FAKE_STD: nan}
    real_mean, fake_mean = float(d_real.mean()), float(d_fake.mean())
    return {
        keys.D_REAL: real_mean,
        keys.D_FAKE: fake_mean,
        keys.D_GAP: round(real_mean - fake_mean, 12),
        keys.D_REAL_STD: float(d_real.std(unbiased=False)),
        keys.D_FAKE_STD: float(d_fake.std(unbiased=False)),
    }


def critic_window_statistics(real: torch.Tensor, fake: torch.Tensor) -> dict[str, float]:
    """Summarise a WGAN critic's per-step mean scores over a window: means, estimate, spread.

    The Wasserstein estimate is E[C(x)] - E[C(G(z))]; the critic's common offset
    is free (the WGAN loss ignores it), so only the estimate measures the game.

    Args:
        real: (S,) per-step mean critic score on real samples.
        fake: (S,) per-step mean critic score on generated samples.

    Example:
        >>> critic_window_statistics(torch.tensor([5.0, 7.0]), torch.tensor([4.0, 5.0]))["wasserstein_estimate"]
        1.5
    """
    real, fake = real.to(torch.float64), fake.to(torch.float64)
    names = (keys.CRITIC_REAL, keys.CRITIC_FAKE, keys.WASSERSTEIN_ESTIMATE)
    spreads = (keys.CRITIC_REAL_STD, keys.CRITIC_FAKE_STD, keys.WASSERSTEIN_ESTIMATE_STD)
    if real.numel() == 0:
        return dict.fromkeys(names + spreads, math.nan)
    result = {}
    for name, spread, values in zip(names, spreads, (real, fake, real - fake), strict=True):
        result[name] = round(float(values.mean()), 12)
        result[spread] = float(values.std(unbiased=False))
    return result


def equilibrium_distance(d_real: float, d_fake: float) -> float:
    """Largest distance of either mean output from 1/2 (0 at equilibrium)."""
    return max(abs(d_real - EQUILIBRIUM), abs(d_fake - EQUILIBRIUM))
