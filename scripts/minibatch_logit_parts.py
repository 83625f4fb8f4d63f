"""Where a minibatch discriminator's verdict comes from: its logit split into f and o parts.

Loads a ``minibatch`` run's last checkpoint, draws one real and one generated batch
of the run's batch size, and prints, for each, the mean contribution to D's logit
of the features f and of each kernel's closeness sum o, and the mean o per kernel.
This is the measurement behind docs/models.md ("On 2-D mixtures the layer works
against its purpose").

Usage:
    .venv/bin/python scripts/minibatch_logit_parts.py reports/reference/runs/minibatch-ring8-seed0 [--seed 1]
"""

from __future__ import annotations

import argparse

import torch

import collapsekit
import reference_models
from reference_models.minibatch import MinibatchDiscriminator


def logit_parts(run_dir: str, seed: int = 1) -> dict[str, dict[str, object]]:
    """Mean logit contributions of f and o on a real and a generated batch, and mean o per kernel."""
    trainer = reference_models.load_trained(run_dir)
    discriminator = trainer.discriminator
    if not isinstance(discriminator, MinibatchDiscriminator):
        raise collapsekit.CollapsekitError(
            f"{run_dir} is a {trainer.config.model} run, not minibatch"
        )
    generator = torch.Generator().manual_seed(seed)
    size = trainer.config.batch_size
    real = trainer.dataset.sample(size, generator=generator).to(trainer.device)
    noise = torch.randn(size, trainer.config.z_dim, generator=generator).to(trainer.device)
    weight = discriminator.head.weight[0]  # (A + B,)
    parts = {}
    with torch.no_grad():
        for name, batch in (("real", real), ("generated", trainer.generator(noise))):
            features = discriminator.base.features(batch).flatten(1)  # (N, A)
            closeness = discriminator.minibatch.closeness_sums(features)  # (N, B), in [0, N - 1]
            o = closeness + discriminator.minibatch.bias  # the layer's output: sums + its bias
            width = features.shape[1]
            parts[name] = {
                "from f": float((features @ weight[:width]).mean()),
                "from o": float((o @ weight[width:]).mean()),
                "bias": float(discriminator.head.bias),
                "o per kernel": closeness.mean(dim=0).cpu().tolist(),
                "o weight per kernel": weight[width:].cpu().tolist(),
            }
    return parts


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("run_dir")
    parser.add_argument("--seed", type=int, default=1, help="seed of the two batches")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    for name, part in logit_parts(args.run_dir, args.seed).items():
        kernels = ", ".join(f"{o:.2f}" for o in part["o per kernel"])
        weights = ", ".join(f"{w:+.3f}" for w in part["o weight per kernel"])
        print(
            f"{name:>9} batch: logit from f {part['from f']:+.2f}, from o {part['from o']:+.2f}, "
            f"bias {part['bias']:+.2f}; mean o per kernel [{kernels}]; head weights on o [{weights}]"
        )


if __name__ == "__main__":
    main()
