"""Milliseconds per training step of the Metz stacked-MNIST nets, per image size, D width and pack.

One step is what PacGAN's code does per iteration: one D update then one G update,
Adam (D 2e-4, G 1e-4, betas (0.5, 0.99)), batch 128, z 256 N(0, 1), the
non-saturating loss; with ``pack = m`` G draws m batches and D reads them
concatenated along channels (PacGAN). Real batches are random images in [-1, 1]
(the data's values do not change the time). The baseline, timed in the same run,
is the same loop with the bundled ``dcgan`` nets (``reference_models.conv_nets``,
base width 32, z 100). Prints ``uptime`` first and last: the machine is shared, so
besides the wall time it prints the process's CPU time per step, which other
jobs on the machine inflate much less.

    OMP_NUM_THREADS=1 python bench/bench_metz_step.py [--steps 60] [--repeats 3] [--threads 1]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import time

import torch
import torch.nn.functional as F
from torch import nn

from reference_models.conv_nets import ConvDiscriminator, ConvGenerator
from reference_models.metz_nets import D_WIDTHS, MetzDiscriminator, MetzGenerator

BATCH = 128
Z_METZ, Z_DCGAN = 256, 100


def build(net: str, side: int, pack: int) -> tuple[nn.Module, nn.Module, int]:
    """(G, D, z_dim) for ``net``: a D width of the Metz nets, or ``dcgan`` (the baseline)."""
    shape = (3, side, side)
    if net == "dcgan":
        return ConvGenerator(Z_DCGAN, shape, 32), ConvDiscriminator((3 * pack, side, side), 32), Z_DCGAN
    return MetzGenerator(Z_METZ, shape), MetzDiscriminator(shape, net, pack), Z_METZ


def seconds_per_step(net: str, side: int, pack: int, steps: int) -> tuple[float, float]:
    """Mean (wall, CPU) seconds of one D update plus one G update, after 5 warm-up steps."""
    torch.manual_seed(0)
    generator, discriminator, z_dim = build(net, side, pack)
    optimizer_d = torch.optim.Adam(discriminator.parameters(), 2e-4, betas=(0.5, 0.99))
    optimizer_g = torch.optim.Adam(generator.parameters(), 1e-4, betas=(0.5, 0.99))

    def packed_fakes() -> torch.Tensor:
        fakes = generator(torch.randn(BATCH * pack, z_dim))  # (m B, 3, S, S)
        return torch.cat(fakes.chunk(pack), dim=1)  # (B, 3 m, S, S)

    def step() -> None:
        # Update D: maximize log D(x) + log(1 - D(G(z)))
        real = torch.rand(BATCH, 3 * pack, side, side) * 2 - 1
        with torch.no_grad():
            fake = packed_fakes()
        real_logits, fake_logits = discriminator(real), discriminator(fake)
        loss_d = F.binary_cross_entropy_with_logits(real_logits, torch.ones_like(real_logits))
        loss_d = loss_d + F.binary_cross_entropy_with_logits(fake_logits, torch.zeros_like(fake_logits))
        optimizer_d.zero_grad(set_to_none=True)
        loss_d.backward()
        optimizer_d.step()
        # Update G: maximize log D(G(z)) (non-saturating)
        fake_logits = discriminator(packed_fakes())
        loss_g = F.binary_cross_entropy_with_logits(fake_logits, torch.ones_like(fake_logits))
        optimizer_g.zero_grad(set_to_none=True)
        loss_g.backward()
        optimizer_g.step()

    for _ in range(5):
        step()
    wall, cpu = time.perf_counter(), time.process_time()
    for _ in range(steps):
        step()
    return (time.perf_counter() - wall) / steps, (time.process_time() - cpu) / steps


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=60, help="timed steps per measurement")
    parser.add_argument("--repeats", type=int, default=3, help="alternating repeats; the median is shown")
    parser.add_argument("--threads", type=int, default=1, help="torch threads")
    parser.add_argument("--sides", default="28,8", help="image sides to measure")
    arguments = parser.parse_args()
    torch.set_num_threads(arguments.threads)
    print("uptime:", subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip())
    print(f"torch {torch.__version__}, {arguments.threads} thread(s), batch {BATCH}, CPU")
    print(f"{'side':>4} {'nets':>8} {'pack':>4} {'ms/step':>8} {'x dcgan':>8} {'CPU ms':>8} {'x dcgan':>8}")
    for side in map(int, arguments.sides.split(",")):
        configs = [("dcgan", 1)] + [(width, pack) for pack in (1, 2) for width in D_WIDTHS]
        times: dict[tuple[str, int], list[tuple[float, float]]] = {config: [] for config in configs}
        for _ in range(arguments.repeats):
            for net, pack in configs:
                times[net, pack].append(seconds_per_step(net, side, pack, arguments.steps))
        wall_base, cpu_base = (statistics.median(column) for column in zip(*times["dcgan", 1], strict=True))
        for (net, pack), values in times.items():
            wall, cpu = (statistics.median(column) for column in zip(*values, strict=True))
            print(
                f"{side:>4} {net:>8} {pack:>4} {1000 * wall:>8.1f} {wall / wall_base:>8.2f}"
                f" {1000 * cpu:>8.1f} {cpu / cpu_base:>8.2f}"
            )
    print("uptime:", subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip())


if __name__ == "__main__":
    main()
