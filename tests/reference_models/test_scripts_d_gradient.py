"""scripts/d_gradient_at_samples.py: D's pull on the samples, checked on known answers."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
import torch

import collapsekit
import reference_models


@pytest.fixture(scope="module")
def script():
    path = Path(__file__).resolve().parents[2] / "scripts" / "d_gradient_at_samples.py"
    spec = importlib.util.spec_from_file_location("d_gradient_at_samples", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_linear_discriminator_gives_its_weight_as_the_gradient(script):
    """logit = w.x + b: the gradient is w everywhere; its cosine with x - centre is known."""
    w, b = torch.tensor([3.0, 4.0]), -1.0
    x = torch.tensor([[1.0, 0.0], [0.0, 1.0], [-1.0, 0.0], [0.0, -1.0], [2.0, 2.0]])
    stats = script.gradient_stats(lambda s: s @ w + b, x, centre=torch.zeros(2))
    logits = x @ w + b
    assert stats["logit"] == pytest.approx(float(logits.mean()))
    assert stats["D"] == pytest.approx(float(torch.sigmoid(logits).mean()))
    assert stats["grad_norm_median"] == pytest.approx(5.0)
    cosines = torch.tensor([0.6, 0.8, -0.6, -0.8, 7 / (5 * 2**0.5)])
    assert stats["cos_outward_median"] == pytest.approx(float(cosines.median()), abs=1e-6)
    assert stats["outward_frac"] == pytest.approx(3 / 5)
    # Moving the centre beyond every sample turns every gradient inward.
    inward = script.gradient_stats(lambda s: s @ w + b, x, centre=torch.tensor([30.0, 40.0]))
    assert inward["outward_frac"] == 0.0


def test_run_gradient_stats_matches_a_finite_difference(script, tiny_config, tmp_path):
    reference_models.train(tiny_config(steps=10, eval_every=5), tmp_path / "run", progress=False)
    stats = script.run_gradient_stats(tmp_path / "run", samples=64, seed=3)
    assert set(stats) == {"generated", "real"}

    run = collapsekit.RunDir.open(tmp_path / "run")
    trainer = reference_models.build_trainer(
        reference_models.TrainConfig.from_dict(run.read_config())
    )
    trainer.load_state_dict(run.load_checkpoint()["trainer"])
    generator = torch.Generator().manual_seed(3)
    real = trainer.dataset.sample(64, generator=generator).double()
    step = 1e-6
    d = trainer.discriminator.double()
    with torch.no_grad():
        norms = torch.stack(
            [
                (d(real + step * e).reshape(-1) - d(real - step * e).reshape(-1)) / (2 * step)
                for e in torch.eye(2, dtype=torch.float64)
            ],
            dim=1,
        ).norm(dim=1)  # (64,) central differences of the logit along each axis
    assert stats["real"]["grad_norm_median"] == pytest.approx(float(norms.median()), rel=1e-4)


def test_refuses_minibatch_runs(script, tiny_config, tmp_path):
    reference_models.train(
        tiny_config(model="minibatch", steps=2, eval_every=2), tmp_path / "mb", progress=False
    )
    with pytest.raises(collapsekit.CollapsekitError, match="depends on the whole batch"):
        script.run_gradient_stats(tmp_path / "mb")


def test_a_run_without_its_checkpoint_says_how_to_get_one(script, tiny_config, tmp_path):
    """Committed reference runs leave checkpoint.pt out: the error says how to train it again."""
    reference_models.train(tiny_config(steps=2, eval_every=2), tmp_path / "run", progress=False)
    (tmp_path / "run" / "checkpoint.pt").unlink()
    with pytest.raises(collapsekit.CollapsekitError, match="no checkpoint.pt .*collapsekit sweep"):
        script.run_gradient_stats(tmp_path / "run")
