"""A WGAN-GP on your own Gaussian mixture, watched by collapsekit: the lines marked # collapsekit.

The training is a classic WGAN-GP toy script (Gulrajani et al.): five critic
updates per generator update, a gradient penalty of weight 10, Adam(1e-4, 0.5,
0.9), on eight Gaussians on a circle of radius sqrt(2), the script's own data.
collapsekit adds five lines and the import: the mixture, the Monitor, observe
and evaluate in the loop, close. ``step`` is the generator step; observe gets
the critic's scores from the last critic update of that step.

Usage:
    python examples/wgan_gp_mixture.py                        # 5,000 generator steps, in memory
    python examples/wgan_gp_mixture.py --steps 200 --run-dir runs/my-wgan   # a quick try, stored
"""

from __future__ import annotations

import argparse
import math

import torch
from torch import nn

import collapsekit  # collapsekit


def make_data(batch: int) -> torch.Tensor:
    """The script's own data: 8 Gaussians on a circle of radius sqrt(2), std 0.02."""
    angles = torch.randint(0, 8, (batch,)) * (2 * math.pi / 8)
    centres = math.sqrt(2) * torch.stack([angles.cos(), angles.sin()], dim=1)
    return centres + 0.02 * torch.randn(batch, 2)  # (B, 2)


CENTRES = [[math.sqrt(2) * math.cos(k * math.pi / 4), math.sqrt(2) * math.sin(k * math.pi / 4)] for k in range(8)]  # fmt: skip


def make_net(hidden: int, outputs: int) -> nn.Module:
    return nn.Sequential(
        nn.Linear(2, hidden), nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU(),
        nn.Linear(hidden, outputs),
    )  # fmt: skip


def gradient_penalty(critic: nn.Module, real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
    mix = torch.rand(real.shape[0], 1)
    points = (mix * real + (1 - mix) * fake).requires_grad_(True)
    (gradients,) = torch.autograd.grad(critic(points).sum(), points, create_graph=True)
    return ((gradients.norm(dim=1) - 1) ** 2).mean()


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="WGAN-GP on a custom mixture, with collapsekit.")
    parser.add_argument("--steps", type=int, default=5000, help="generator steps")
    parser.add_argument("--critic-steps", type=int, default=5)
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--hidden", type=int, default=256)
    parser.add_argument("--eval-every", type=int, default=500)
    parser.add_argument("--run-dir", default=None)
    parser.add_argument("--seed", type=int, default=0)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> collapsekit.Summary:
    args = parse_args(argv)
    torch.manual_seed(args.seed)
    generator, critic = make_net(args.hidden, outputs=2), make_net(args.hidden, outputs=1)
    optimizer_g = torch.optim.Adam(generator.parameters(), lr=1e-4, betas=(0.5, 0.9))
    optimizer_c = torch.optim.Adam(critic.parameters(), lr=1e-4, betas=(0.5, 0.9))
    mixture = collapsekit.GaussianMixture(CENTRES, std=0.02, name="8gaussians")  # collapsekit
    monitor = collapsekit.Monitor(mixture, args.run_dir, args.eval_every, model="wgan-gp")
    batch = args.batch_size
    for step in range(args.steps + 1):
        for _ in range(args.critic_steps):  # Update C: maximize E[C(x)] - E[C(G(z))] - 10 GP
            real, fake = make_data(batch), generator(torch.randn(batch, 2)).detach()
            score_real, score_fake = critic(real), critic(fake)
            penalty = gradient_penalty(critic, real, fake)
            loss_c = score_fake.mean() - score_real.mean() + 10 * penalty
            optimizer_c.zero_grad()
            loss_c.backward()
            optimizer_c.step()
        loss_g = -critic(generator(torch.randn(batch, 2))).mean()  # Update G: maximize E[C(G(z))]
        optimizer_g.zero_grad()
        loss_g.backward()
        optimizer_g.step()
        monitor.observe(step, d_real=score_real, d_fake=score_fake, kind="critic")  # collapsekit
        monitor.evaluate(step, sample_fn=lambda n: generator(torch.randn(n, 2)))  # collapsekit
    summary = monitor.close()  # collapsekit
    print(f"status: {summary.status}, modes covered: {summary.metrics['modes_covered']}/8, "
          f"Wasserstein estimate: {summary.metrics['wasserstein_estimate']:.3f}")  # fmt: skip
    for finding in summary.findings:
        print(f"finding: {finding['name']} ({finding['severity']}): {finding['message']}")
    return summary


if __name__ == "__main__":
    main()
