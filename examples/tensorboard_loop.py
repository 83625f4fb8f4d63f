"""A plain PyTorch GAN whose collapsekit metrics and samples go to TensorBoard.

``log_to(writer)`` is the Monitor's ``on_metrics`` callback: every history row
becomes ``collapsekit/<key>`` scalars at its step, and the evaluation's samples a
``collapsekit/samples`` image (drawn over the mode centres). Then
``tensorboard --logdir tb`` shows coverage, D(x), D(G(z)) and the samples
beside your own losses.

Usage:
    python examples/tensorboard_loop.py --log-dir tb/my-gan            # 3,000 steps on ring8
    python examples/tensorboard_loop.py --steps 200 --eval-every 50 --log-dir tb/try
"""

from __future__ import annotations

import argparse

import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.tensorboard import SummaryWriter

import collapsekit
from collapsekit.integrations.tensorboard import log_to


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="A GAN on ring8 logged to TensorBoard.")
    parser.add_argument("--steps", type=int, default=3000)
    parser.add_argument("--eval-every", type=int, default=500)
    parser.add_argument("--eval-samples", type=int, default=None, help="default: 2,500")
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--log-dir", default="tb/collapsekit-example")
    parser.add_argument("--seed", type=int, default=0)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> collapsekit.Summary:
    args = parse_args(argv)
    torch.manual_seed(args.seed)
    ring = collapsekit.get_dataset("ring8")
    generator = nn.Sequential(nn.Linear(16, 64), nn.ReLU(), nn.Linear(64, 2))
    discriminator = nn.Sequential(nn.Linear(2, 64), nn.LeakyReLU(0.2), nn.Linear(64, 1))
    optimizer_g = torch.optim.Adam(generator.parameters(), lr=1e-3, betas=(0.5, 0.999))
    optimizer_d = torch.optim.Adam(discriminator.parameters(), lr=1e-3, betas=(0.5, 0.999))
    writer = SummaryWriter(args.log_dir)
    monitor = collapsekit.Monitor(
        "ring8", eval_every=args.eval_every, num_samples=args.eval_samples,
        on_metrics=log_to(writer, dataset=ring),
    )  # fmt: skip
    for step in range(args.steps + 1):
        real, fake = ring.sample(args.batch_size), generator(torch.randn(args.batch_size, 16))
        # Update D: maximize log D(x) + log(1 - D(G(z)))
        real_logits, fake_logits = discriminator(real), discriminator(fake.detach())
        loss_d = F.softplus(-real_logits).mean() + F.softplus(fake_logits).mean()
        optimizer_d.zero_grad()
        loss_d.backward()
        optimizer_d.step()
        # Update G: maximize log D(G(z)) (non-saturating)
        loss_g = F.softplus(-discriminator(fake)).mean()
        optimizer_g.zero_grad()
        loss_g.backward()
        optimizer_g.step()
        writer.add_scalar("loss/discriminator", loss_d.item(), step)  # your own logging
        monitor.observe(step, d_real=real_logits, d_fake=fake_logits)
        monitor.evaluate(step, sample_fn=lambda n: generator(torch.randn(n, 16)))
    summary = monitor.close()
    writer.close()
    print(f"status: {summary.status}; TensorBoard: tensorboard --logdir {args.log_dir}")
    return summary


if __name__ == "__main__":
    main()
