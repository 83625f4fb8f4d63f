"""A GAN written the way a user would, watched by collapsekit with three added lines.

Everything here is plain PyTorch: two small MLPs, Adam, the non-saturating loss,
a loop. collapsekit only watches: ``Monitor(...)`` before the loop,
``monitor.observe`` and ``monitor.evaluate`` inside it, ``close()`` after (here
as a ``with`` block, so a crash still leaves a summary). Nothing in
``reference_models`` is used.

Usage:
    python examples/custom_loop.py                          # 10,000 steps on ring8, in memory
    python examples/custom_loop.py --run-dir runs/my-gan    # also store the run (history, plots later)
    python examples/custom_loop.py --steps 200 --eval-every 50 --batch-size 64   # a quick try
    python examples/custom_loop.py --real-samples 5000      # data without known modes: feature metrics
"""

from __future__ import annotations

import argparse

import torch
import torch.nn.functional as F
from torch import nn

import collapsekit


def make_generator(z_dim: int, hidden: int) -> nn.Module:
    return nn.Sequential(
        nn.Linear(z_dim, hidden), nn.ReLU(),
        nn.Linear(hidden, hidden), nn.ReLU(),
        nn.Linear(hidden, 2),
    )  # fmt: skip


def make_discriminator(hidden: int) -> nn.Module:
    return nn.Sequential(
        nn.Linear(2, hidden), nn.LeakyReLU(0.2),
        nn.Linear(hidden, hidden), nn.LeakyReLU(0.2),
        nn.Linear(hidden, 1),
    )  # fmt: skip


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="A plain GAN on ring8, watched by collapsekit.")
    parser.add_argument("--steps", type=int, default=10_000, help="training steps")
    parser.add_argument("--eval-every", type=int, default=500, help="steps between evaluations")
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--z-dim", type=int, default=64)
    parser.add_argument("--hidden", type=int, default=128)
    parser.add_argument("--lr", type=float, default=2e-4, help="Adam learning rate of G and D")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--run-dir", default=None, help="store the run here (default: in memory)")
    parser.add_argument(
        "--eval-samples", type=int, default=None, help="default: 2,500 (the protocol)"
    )
    parser.add_argument(
        "--real-samples",
        type=int,
        default=0,
        metavar="N",
        help="give the monitor N real samples instead of the dataset name (feature metrics only)",
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> collapsekit.Summary:
    args = parse_args(argv)
    torch.manual_seed(args.seed)
    device = torch.device(args.device)
    ring = collapsekit.get_dataset("ring8")  # our "real data": any sampler of tensors would do
    generator = make_generator(args.z_dim, args.hidden).to(device)
    discriminator = make_discriminator(args.hidden).to(device)
    optimizer_g = torch.optim.Adam(generator.parameters(), lr=args.lr, betas=(0.5, 0.999))
    optimizer_d = torch.optim.Adam(discriminator.parameters(), lr=args.lr, betas=(0.5, 0.999))
    data = ring.sample(args.real_samples) if args.real_samples else "ring8"

    with collapsekit.Monitor(
        data=data, run_dir=args.run_dir, eval_every=args.eval_every
    ) as monitor:
        for step in range(args.steps + 1):
            real = ring.sample(args.batch_size).to(device)  # (B, 2)
            fake = generator(torch.randn(args.batch_size, args.z_dim, device=device))  # (B, 2)

            # Update D: maximize log D(x) + log(1 - D(G(z)))
            real_logits = discriminator(real)  # (B, 1)
            fake_logits = discriminator(fake.detach())  # (B, 1)
            loss_d = F.binary_cross_entropy_with_logits(real_logits, torch.ones_like(real_logits))
            loss_d = loss_d + F.binary_cross_entropy_with_logits(
                fake_logits, torch.zeros_like(fake_logits)
            )
            optimizer_d.zero_grad()
            loss_d.backward()
            optimizer_d.step()

            # Update G: maximize log D(G(z)) (non-saturating)
            loss_g = F.binary_cross_entropy_with_logits(
                discriminator(fake), torch.ones_like(fake_logits)
            )
            optimizer_g.zero_grad()
            loss_g.backward()
            optimizer_g.step()

            monitor.observe(step, d_real=real_logits, d_fake=fake_logits)  # collapsekit, every step
            monitor.evaluate(  # collapsekit: acts every eval_every steps, G in eval mode and back
                step, sample_fn=lambda n: generator(torch.randn(n, args.z_dim, device=device))
            )
        summary = monitor.close()  # on an exception, the with block closes it with status "failed"
    print(f"status: {summary.status}, final metrics: {_short(summary.metrics)}")
    for finding in summary.findings:
        print(f"finding: {finding['name']} ({finding['severity']}): {finding['message']}")
    return summary


def _short(metrics: dict) -> str:
    shown = (
        "modes_covered",
        "modes_total",
        "high_quality_frac",
        "precision",
        "recall",
        "coverage",
        "d_real",
        "d_fake",
    )
    return ", ".join(
        f"{k}={v:.3g}" if isinstance(v, float) else f"{k}={v}"
        for k, v in metrics.items()
        if k in shown
    )


if __name__ == "__main__":
    main()
