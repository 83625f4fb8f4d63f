"""A small GAN in Lightning (manual optimisation), watched by collapsekit's callback.

The LightningModule is plain Lightning: two MLPs, two Adam optimisers, the
non-saturating loss. collapsekit needs two things from it: ``training_step``
returns D's outputs on the step's real and generated batches, and ``sample(n)``
draws generator samples. ``CollapsekitCallback`` does the rest: it observes
every batch, evaluates every ``--eval-every`` batches, writes the run folder,
logs each row to the Trainer's loggers and closes the run at the end.

Usage:
    python examples/lightning_gan.py                           # 3,000 steps on ring8, CPU
    python examples/lightning_gan.py --steps 300 --run-dir runs/lit-gan --log-dir logs/
"""

from __future__ import annotations

import argparse

import lightning
import torch
import torch.nn.functional as F
from torch import nn

import collapsekit
from collapsekit.integrations.lightning import CollapsekitCallback


class RingData(torch.utils.data.IterableDataset):
    """Endless batches of ring8 samples (the data loader of a real project goes here)."""

    def __init__(self, batch_size: int) -> None:
        self.batch_size = batch_size
        self.ring = collapsekit.get_dataset("ring8")

    def __iter__(self):
        generator = torch.Generator().manual_seed(0)
        while True:
            yield self.ring.sample(self.batch_size, generator)  # (B, 2)


class GAN(lightning.LightningModule):
    def __init__(self, z_dim: int = 16, hidden: int = 64, lr: float = 1e-3) -> None:
        super().__init__()
        self.automatic_optimization = False
        self.z_dim, self.lr = z_dim, lr
        self.generator = nn.Sequential(nn.Linear(z_dim, hidden), nn.ReLU(), nn.Linear(hidden, 2))
        self.discriminator = nn.Sequential(
            nn.Linear(2, hidden), nn.LeakyReLU(0.2), nn.Linear(hidden, 1)
        )

    def sample(self, n: int) -> torch.Tensor:
        return self.generator(torch.randn(n, self.z_dim, device=self.device))

    def training_step(self, real: torch.Tensor, batch_idx: int) -> dict:
        optimizer_g, optimizer_d = self.optimizers()
        fake = self.sample(real.shape[0])
        # Update D: maximize log D(x) + log(1 - D(G(z)))
        real_logits, fake_logits = self.discriminator(real), self.discriminator(fake.detach())
        loss_d = F.binary_cross_entropy_with_logits(real_logits, torch.ones_like(real_logits))
        loss_d = loss_d + F.binary_cross_entropy_with_logits(
            fake_logits, torch.zeros_like(fake_logits)
        )
        optimizer_d.zero_grad()
        self.manual_backward(loss_d)
        optimizer_d.step()
        # Update G: maximize log D(G(z)) (non-saturating)
        loss_g = F.binary_cross_entropy_with_logits(
            self.discriminator(fake), torch.ones_like(fake_logits)
        )
        optimizer_g.zero_grad()
        self.manual_backward(loss_g)
        optimizer_g.step()
        return {"d_real": real_logits.detach(), "d_fake": fake_logits.detach()}  # for collapsekit

    def configure_optimizers(self):
        adam = lambda net: torch.optim.Adam(net.parameters(), lr=self.lr, betas=(0.5, 0.999))  # noqa: E731
        return adam(self.generator), adam(self.discriminator)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="A Lightning GAN on ring8, watched by collapsekit."
    )
    parser.add_argument("--steps", type=int, default=3000, help="training batches")
    parser.add_argument("--eval-every", type=int, default=500)
    parser.add_argument("--eval-samples", type=int, default=None, help="default: 2,500")
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--run-dir", default=None, help="store the run here (default: in memory)")
    parser.add_argument("--log-dir", default=None, help="a CSV logger's folder (default: none)")
    parser.add_argument("--seed", type=int, default=0)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> CollapsekitCallback:
    args = parse_args(argv)
    lightning.seed_everything(args.seed, verbose=False)
    callback = CollapsekitCallback(
        "ring8", run_dir=args.run_dir, eval_every=args.eval_every, num_samples=args.eval_samples,
        model="lightning-gan", config={"seed": args.seed},
    )  # fmt: skip
    logger = lightning.pytorch.loggers.CSVLogger(args.log_dir) if args.log_dir else False
    # Lightning counts optimiser steps: two per training batch here (D, then G)
    trainer = lightning.Trainer(
        max_steps=2 * args.steps, callbacks=[callback], logger=logger, accelerator="cpu",
        enable_progress_bar=False, enable_model_summary=False, enable_checkpointing=False,
    )  # fmt: skip
    data = torch.utils.data.DataLoader(RingData(args.batch_size), batch_size=None)
    trainer.fit(GAN(), data)
    summary = callback.summary
    print(f"status: {summary.status}, modes covered: {summary.metrics.get('modes_covered')}/8")
    for finding in summary.findings:
        print(f"finding: {finding['name']} ({finding['severity']}): {finding['message']}")
    return callback


if __name__ == "__main__":
    main()
