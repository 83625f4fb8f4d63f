"""Which ingredient of the VEEGAN protocol (Metz et al.'s notebook) keeps its discriminator blind?

Under ``--protocol veegan`` both GANs end with D(x) = D(G(z)) = 0.500 and 1-9% high-quality
samples: a diffuse cloud over the ring. This trains the GAN for 6,000 steps (seed 0,
ring8 radius 1, std 0.01) as the protocol does, then with one setting changed at a time,
and prints the high-quality share, modes captured and the mean D(x) - D(G(z)) over the
last 1,000 steps. The changes are diagnostics, not the protocol: only D's learning rate
(1e-4 in the notebook) separates the cloud from the ring in this time.

Usage: OMP_NUM_THREADS=1 .venv/bin/python scripts/veegan_ablation.py   (about 5 CPU-minutes)
"""

import torch

import collapsekit
from reference_models import TrainConfig, build_trainer

STEPS = 6_000
RING = collapsekit.get_dataset("ring8:radius=1,std=0.01")
CHANGES = (  # (label, settings changed from the protocol)
    ("notebook (tanh, orth 1.4, saturating, simultaneous)", {}),
    ("  but non-saturating", {"generator_objective": "non_saturating"}),
    ("  but alternating", {"updates": "alternating"}),
    ("  but ReLU nets, PyTorch init (mlp)", {"nets": "mlp"}),
    ("  but D lr 1e-3", {"lr_discriminator": 1e-3}),
)


def run(label: str, **changes) -> str:
    config = TrainConfig(protocol="veegan", data="ring8", device="cpu", steps=STEPS, **changes)
    trainer = build_trainer(config)
    gaps = []
    for step in range(STEPS):
        result = trainer.train_step()
        if step >= STEPS - 1_000:
            real, fake = torch.sigmoid(result.real_logits), torch.sigmoid(result.fake_logits)
            gaps.append(float(real.mean() - fake.mean()))
    trainer.generator.eval()
    with torch.no_grad():
        noise = torch.randn(2_500, config.z_dim, generator=torch.Generator().manual_seed(1))
        samples = trainer.generator(noise)  # (2500, 2)
    mode, good = RING.assign(samples)
    modes = len(set(mode[good].tolist()))
    gap = sum(gaps) / len(gaps)
    return f"{label:55s} hq={float(good.float().mean()):.3f} modes={modes} D(x)-D(G(z))={gap:+.4f}"


if __name__ == "__main__":
    for label, changes in CHANGES:
        print(run(label, **changes), flush=True)
