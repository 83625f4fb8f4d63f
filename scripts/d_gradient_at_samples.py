"""How the discriminator pulls on the generator's samples at the end of a 2-D run.

Loads a run's last checkpoint, draws generated and real samples, and prints, for each,
the mean logit of D, D's mean output, the median norm of the logit's gradient with
respect to the sample (what the generator's loss sees through D), and for generated
samples how often that gradient points outward, away from the centre of the mode
centres (the median cosine and the fraction with a positive one). This is the
measurement behind docs/models.md on the unrolled GAN's grid25 runs: the current D's
gradient at the stuck samples is not small, and mostly points out of the region they
are stuck in.

Usage:
    .venv/bin/python scripts/d_gradient_at_samples.py reports/reference/runs/unrolled-grid25-seed1 [more runs] [--samples 2500] [--seed 1]
"""

from __future__ import annotations

import argparse
from collections.abc import Callable

import torch

import collapsekit
import reference_models


def gradient_stats(
    discriminator: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor, centre: torch.Tensor
) -> dict[str, float]:
    """D's pull on the samples ``x`` (N, 2): mean logit and output, median |d logit / dx|,
    and the median cosine (and fraction positive) between that gradient and ``x - centre``."""
    x = x.detach().clone().requires_grad_(True)
    logit = discriminator(x).reshape(-1)  # (N,)
    # Each logit depends on its own sample only, so the gradient of the sum is per sample.
    (grad,) = torch.autograd.grad(logit.sum(), x)  # (N, 2)
    outward = x.detach() - centre  # (N, 2)
    cosine = (grad * outward).sum(1) / (grad.norm(dim=1) * outward.norm(dim=1)).clamp_min(1e-12)
    return {
        "logit": float(logit.detach().mean()),
        "D": float(torch.sigmoid(logit.detach()).mean()),
        "grad_norm_median": float(grad.norm(dim=1).median()),
        "cos_outward_median": float(cosine.median()),
        "outward_frac": float((cosine > 0).float().mean()),
    }


def run_gradient_stats(
    run_dir: str, samples: int = 2500, seed: int = 1
) -> dict[str, dict[str, float]]:
    """``gradient_stats`` of a run's generated and real samples, drawn with ``seed``."""
    trainer = reference_models.load_trained(run_dir)
    if trainer.config.model == "minibatch":
        raise collapsekit.CollapsekitError(
            f"{run_dir} is a minibatch run: its D's output for a sample depends on the whole batch, "
            "so a per-sample gradient is not defined; use scripts/minibatch_logit_parts.py"
        )
    centres = getattr(trainer.dataset, "centres", None)
    if centres is None or centres.shape[1] != 2:
        raise collapsekit.CollapsekitError(f"{run_dir} is not a run on 2-D data")
    generator = torch.Generator().manual_seed(seed)
    real = trainer.dataset.sample(samples, generator=generator).to(trainer.device)
    noise = torch.randn(samples, trainer.config.z_dim, generator=generator).to(trainer.device)
    with torch.no_grad():
        fake = trainer.generator(noise)
    centre = centres.mean(dim=0).to(device=trainer.device, dtype=fake.dtype)
    return {
        "generated": gradient_stats(trainer.discriminator, fake, centre),
        "real": gradient_stats(trainer.discriminator, real, centre),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("run_dirs", nargs="+")
    parser.add_argument("--samples", type=int, default=2500, help="samples of each kind")
    parser.add_argument("--seed", type=int, default=1, help="seed of the samples")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    for run_dir in args.run_dirs:
        for name, s in run_gradient_stats(run_dir, args.samples, args.seed).items():
            print(
                f"{run_dir}  {name:>9}: logit {s['logit']:+.2f}, D {s['D']:.3f}, "
                f"median |dlogit/dx| {s['grad_norm_median']:.3f}, "
                f"median cos(grad, outward) {s['cos_outward_median']:+.2f}, "
                f"outward {s['outward_frac']:.0%}"
            )


if __name__ == "__main__":
    main()
