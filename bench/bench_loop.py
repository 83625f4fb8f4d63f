"""Steps per second of the reference vanilla trainer against a minimal hand-written loop.

Both train the same MLP nets with the same batch size and optimisers, in the same
process, one after the other, alternating repeats to even out machine noise. The
reference trainer also runs the Monitor (observe every step, an evaluation of
2,500 samples every 1,000 steps, as in a default run), so the ratio is the full
cost of using collapsekit.

    python bench/bench_loop.py [--steps 3000] [--repeats 3] [--threads 1]
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch
import torch.nn.functional as F

import collapsekit
import reference_models
from reference_models.nets import MLPDiscriminator, MLPGenerator


def hand_written_loop(steps: int, config: reference_models.TrainConfig) -> float:
    """The plainest PyTorch GAN loop with the same nets; returns seconds."""
    torch.manual_seed(config.seed)
    ring = collapsekit.get_dataset(config.data)
    generator, discriminator = MLPGenerator(config.z_dim, 2, config.hidden), MLPDiscriminator(2, config.hidden)
    betas = (config.beta1, config.beta2)
    optimizer_g = torch.optim.Adam(generator.parameters(), config.lr_generator, betas=betas)
    optimizer_d = torch.optim.Adam(discriminator.parameters(), config.lr_discriminator, betas=betas)
    rng = torch.Generator().manual_seed(config.seed)
    start = time.perf_counter()
    for _ in range(steps):
        real = ring.sample(config.batch_size, generator=rng)
        z_d = torch.randn(config.batch_size, config.z_dim, generator=rng)
        z_g = torch.randn(config.batch_size, config.z_dim, generator=rng)
        # Update D: maximize log D(x) + log(1 - D(G(z)))
        with torch.no_grad():
            fake = generator(z_d)
        real_logits, fake_logits = discriminator(real), discriminator(fake)
        loss_d = F.binary_cross_entropy_with_logits(real_logits, torch.ones_like(real_logits))
        loss_d = loss_d + F.binary_cross_entropy_with_logits(fake_logits, torch.zeros_like(fake_logits))
        optimizer_d.zero_grad(set_to_none=True)
        loss_d.backward()
        optimizer_d.step()
        # Update G: maximize log D(G(z))
        fake_logits = discriminator(generator(z_g))
        loss_g = F.binary_cross_entropy_with_logits(fake_logits, torch.ones_like(fake_logits))
        optimizer_g.zero_grad(set_to_none=True)
        loss_g.backward()
        optimizer_g.step()
    return time.perf_counter() - start


def reference_loop(steps: int, config: reference_models.TrainConfig) -> float:
    config = reference_models.TrainConfig(**{**config.__dict__, "steps": steps})
    start = time.perf_counter()
    reference_models.train(config, run_dir=None, progress=False)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=3000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    config = reference_models.TrainConfig(device="cpu")
    hand_written_loop(200, config)  # warm-up
    plain, ours = [], []
    for _ in range(args.repeats):
        plain.append(hand_written_loop(args.steps, config))
        ours.append(reference_loop(args.steps, config))
    plain_rate = args.steps / statistics.median(plain)
    our_rate = args.steps / statistics.median(ours)
    print(f"steps={args.steps} repeats={args.repeats} threads={args.threads} (median of repeats)")
    print(f"hand-written loop : {plain_rate:8.1f} steps/s")
    print(f"reference trainer : {our_rate:8.1f} steps/s (Monitor on, evaluation every {config.eval_every})")
    print(f"ratio (reference / hand-written): {our_rate / plain_rate:.3f}")


if __name__ == "__main__":
    main()
