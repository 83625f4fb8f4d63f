"""Cost of ``Monitor.observe`` relative to one GAN training step, measured in one run.

For each setting (the reference protocol's step: batch 512, z 256, hidden 128;
and a tiny step: batch 64, z 16, hidden 32, where the ratio is worst) this times,
in the same process with repeats interleaved to even out machine noise:

- ``step``: one plain training step (D update, then G update) without collapsekit;
- ``observe``: one ``monitor.observe(step, real_logits, fake_logits)`` call on that
  step's logits, including its share of the block transfer every ``window`` steps;
- ``step + observe``: the training step followed by ``observe``, end to end.

It prints the medians by the wall clock and by the process's CPU clock (steadier
on a shared machine) and the ratios observe / step and (step + observe) / step - 1;
the end-to-end difference is within timing noise, the direct ratio is the number.
On CUDA the timings synchronise before reading the clock, so ``observe`` is charged
for any synchronisation it causes (it causes none between transfers).

    python bench/bench_observe.py [--repeats 7] [--steps 200] [--threads 1] [--device cpu]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import torch
import torch.nn.functional as F

sys.path.insert(
    0, str(Path(__file__).resolve().parents[1])
)  # run from a checkout without installing

import collapsekit  # noqa: E402
from reference_models.nets import MLPDiscriminator, MLPGenerator  # noqa: E402

SETTINGS = {
    "protocol": dict(batch=512, z_dim=256, hidden=128),
    "tiny": dict(batch=64, z_dim=16, hidden=32),
}


class PlainGAN:
    """The plainest non-saturating GAN step on ring8 with the reference MLPs."""

    def __init__(self, batch: int, z_dim: int, hidden: int, device: torch.device) -> None:
        torch.manual_seed(0)
        self.batch, self.z_dim, self.device = batch, z_dim, device
        self.ring = collapsekit.get_dataset("ring8")
        self.generator = MLPGenerator(z_dim, 2, hidden).to(device)
        self.discriminator = MLPDiscriminator(2, hidden).to(device)
        self.optimizer_g = torch.optim.Adam(self.generator.parameters(), 1e-3, betas=(0.5, 0.999))
        self.optimizer_d = torch.optim.Adam(
            self.discriminator.parameters(), 1e-4, betas=(0.5, 0.999)
        )

    def step(self) -> tuple[torch.Tensor, torch.Tensor]:
        real = self.ring.sample(self.batch).to(self.device)  # (B, 2)
        fake = self.generator(torch.randn(self.batch, self.z_dim, device=self.device))  # (B, 2)
        # Update D: maximize log D(x) + log(1 - D(G(z)))
        real_logits, fake_logits = (
            self.discriminator(real),
            self.discriminator(fake.detach()),
        )  # (B,)
        loss_d = F.binary_cross_entropy_with_logits(real_logits, torch.ones_like(real_logits))
        loss_d = loss_d + F.binary_cross_entropy_with_logits(
            fake_logits, torch.zeros_like(fake_logits)
        )
        self.optimizer_d.zero_grad(set_to_none=True)
        loss_d.backward()
        self.optimizer_d.step()
        # Update G: maximize log D(G(z))
        loss_g = F.binary_cross_entropy_with_logits(
            self.discriminator(fake), torch.ones_like(fake_logits)
        )
        self.optimizer_g.zero_grad(set_to_none=True)
        loss_g.backward()
        self.optimizer_g.step()
        return real_logits, fake_logits


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def time_per_call(function, calls: int, device: torch.device) -> tuple[float, float]:
    """Seconds per call by the wall clock and by this process's CPU clock."""
    _sync(device)
    wall, cpu = time.perf_counter(), time.process_time()
    for index in range(calls):
        function(index)
    _sync(device)
    return (time.perf_counter() - wall) / calls, (time.process_time() - cpu) / calls


def measure(setting: dict, steps: int, repeats: int, device: torch.device) -> dict[str, tuple]:
    """Median (wall, cpu) seconds per call of: step, observe, step + observe."""
    gan = PlainGAN(device=device, **setting)
    monitor = collapsekit.Monitor(data="ring8", eval_every=10**9)
    counter = iter(range(10**9))
    logits = gan.step()
    for _ in range(steps):  # warm-up: allocator, Adam state, first flushes
        gan.step()
        monitor.observe(next(counter), *logits)
    results: dict[str, list[tuple[float, float]]] = {
        "step": [],
        "observe": [],
        "step + observe": [],
    }
    for _ in range(repeats):  # interleaved: each repeat times all three under the same load
        results["step"].append(time_per_call(lambda _: gan.step(), steps, device))
        results["observe"].append(
            time_per_call(lambda _: monitor.observe(next(counter), *logits), steps, device)
        )
        results["step + observe"].append(
            time_per_call(lambda _: monitor.observe(next(counter), *gan.step()), steps, device)
        )
    return {
        name: (statistics.median(v[0] for v in values), statistics.median(v[1] for v in values))
        for name, values in results.items()
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=200, help="calls per timing")
    parser.add_argument(
        "--repeats", type=int, default=7, help="interleaved repeats (median reported)"
    )
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads")
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    print(
        f"device {device}, {args.threads} thread(s), {args.steps} calls x {args.repeats} repeats, medians"
    )
    print(
        f"{'setting':<9} {'clock':<5} {'step (ms)':>10} {'observe (us)':>13} {'observe/step':>13} {'with/without-1':>15}"
    )
    for name, setting in SETTINGS.items():
        times = measure(setting, args.steps, args.repeats, device)
        for clock, which in (("wall", 0), ("cpu", 1)):
            step, observe = times["step"][which], times["observe"][which]
            end_to_end = times["step + observe"][which] / step - 1
            print(
                f"{name:<9} {clock:<5} {step * 1e3:>10.3f} {observe * 1e6:>13.1f} "
                f"{observe / step:>12.3%} {end_to_end:>+14.3%}"
            )


if __name__ == "__main__":
    main()
