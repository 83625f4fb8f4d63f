"""A WGAN critic watched as a critic: raw scores, the Wasserstein estimate, and rules that fit it."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

import collapsekit
from collapsekit.errors import CollapsekitError
from collapsekit.runs import RunDir

RING = collapsekit.get_dataset("ring8")


def ring_samples(n: int) -> torch.Tensor:
    return RING.sample(n, torch.Generator().manual_seed(n))


def critic_scores(step: int, offset: float, gap: float = 2.0) -> tuple[torch.Tensor, torch.Tensor]:
    noise = torch.linspace(-0.1, 0.1, 16)
    return offset + gap / 2 + noise, offset - gap / 2 + noise


def test_critic_scores_are_recorded_raw_with_the_wasserstein_estimate(tmp_path):
    monitor = collapsekit.Monitor("ring8", run_dir=tmp_path / "run", eval_every=10, window=10)
    for step in range(21):
        real, fake = critic_scores(step, offset=40.0 + step)
        monitor.observe(step, d_real=real, d_fake=fake, kind="critic")
        monitor.evaluate(step, sample_fn=ring_samples)
    row = monitor.history.iloc[-1]
    assert row["wasserstein_estimate"] == pytest.approx(2.0)
    assert row["critic_real"] == pytest.approx(np.mean([41 + s for s in range(11, 21)]))
    assert row["critic_fake"] == pytest.approx(np.mean([39 + s for s in range(11, 21)]))
    assert "d_real" not in monitor.history.columns  # no sigmoid(score) anywhere
    assert list(monitor.equilibrium.columns) == ["step", "critic_real", "critic_fake"]
    assert monitor.equilibrium["critic_real"].tolist()[:2] == pytest.approx([41.0, 42.0])
    header = (tmp_path / "run" / "equilibrium.csv").read_text().splitlines()[0]
    assert header == "step,critic_real,critic_fake"
    assert monitor.close().status == "finished"


def test_a_drifting_swinging_offset_with_healthy_coverage_gives_no_finding():
    """The critic's free offset drifts and swings (harmless for WGAN): no oscillation, no dominance."""
    monitor = collapsekit.Monitor("ring8", eval_every=100, window=50)
    for step in range(3001):
        offset = 0.02 * step + 30 * math.sin(2 * math.pi * step / 400)
        real, fake = critic_scores(step, offset)
        monitor.observe(step, d_real=real, d_fake=fake, kind="critic")
        monitor.evaluate(step, sample_fn=ring_samples)
    summary = monitor.close()
    assert summary.findings == []
    assert summary.metrics["modes_covered"] == 8
    assert summary.metrics["wasserstein_estimate"] == pytest.approx(2.0)


def test_the_same_offset_passed_as_logits_was_called_an_oscillation():
    """What went wrong before: the same scores through a sigmoid swing between 0 and 1."""
    monitor = collapsekit.Monitor("ring8", eval_every=100, window=50)
    for step in range(3001):
        real, fake = critic_scores(step, 0.02 * step + 30 * math.sin(2 * math.pi * step / 400))
        monitor.observe(step, d_real=real, d_fake=fake)
        monitor.evaluate(step, sample_fn=ring_samples)
    assert "oscillation" in [f["name"] for f in monitor.close().findings]


def rows(estimates: list[float], covered: int = 8) -> list[dict]:
    return [
        {"step": 100 * i, "modes_covered": covered, "modes_total": 8, "wasserstein_estimate": value}
        for i, value in enumerate(estimates)
    ]


def names(history: list[dict]) -> list[str]:
    return [finding.name for finding in collapsekit.diagnose(history)]


def test_an_exploding_estimate_is_an_error():
    found = collapsekit.diagnose(rows([1.0] * 10 + [3.0, 8.0, 20.0, 60.0]))
    assert [f.name for f in found] == ["critic_exploding"]
    assert found[0].severity == "error" and found[0].start_step == 1200
    assert found[0].evidence["ratio"] == pytest.approx(60.0)
    assert "grew from about 1 to 60 (60x)" in found[0].message


def test_a_steady_rise_is_a_drift_and_a_steady_level_is_not():
    assert names(rows([1.0 + 0.2 * i for i in range(20)])) == ["critic_drift"]
    assert names(rows([2.0 + 0.01 * (-1) ** i for i in range(20)])) == []
    assert names(rows([5.0 - 0.2 * i for i in range(20)])) == []  # a falling estimate is health


def test_an_estimate_near_zero_while_coverage_is_low_is_a_blind_critic():
    history = rows([2.0] * 4, covered=8) + rows([0.05] * 6, covered=2)[:6]
    for index, row in enumerate(history):
        row["step"] = 100 * index
    found = names(history)
    assert "blind_critic" in found and "collapsed" in found
    assert "blind_discriminator" not in found and "discriminator_dominance" not in found
    # the same near-zero estimate with full coverage is no finding
    assert names(rows([2.0] * 4 + [0.05] * 6)) == []


def test_one_run_records_either_probabilities_or_critic_scores():
    monitor = collapsekit.Monitor("ring8")
    monitor.observe(0, torch.zeros(4), torch.zeros(4), kind="critic")
    with pytest.raises(CollapsekitError, match="kind='logits' after kind='critic'"):
        monitor.observe(1, torch.zeros(4), torch.zeros(4), kind="logits")


def test_a_critic_run_resumes_as_a_critic_run(tmp_path):
    monitor = collapsekit.Monitor("ring8", run_dir=tmp_path / "run", eval_every=5, window=5)
    for step in range(6):
        monitor.observe(step, *critic_scores(step, 10.0), kind="critic")
        monitor.evaluate(step, sample_fn=ring_samples)
    monitor.save_checkpoint({"step": 5})
    resumed = collapsekit.Monitor(None, run_dir=tmp_path / "run", resume=True)
    assert resumed.resume() == {"step": 5}
    assert resumed.equilibrium_now()["wasserstein_estimate"] == pytest.approx(2.0)
    with pytest.raises(CollapsekitError, match="kind='probs' after kind='critic'"):
        resumed.observe(6, torch.zeros(4), torch.zeros(4), kind="probs")
    resumed.observe(6, *critic_scores(6, 10.0), kind="critic")
    assert RunDir.open(tmp_path / "run").read_equilibrium().columns.tolist()[1] == "critic_real"


def test_infinite_critic_scores_are_divergence():
    monitor = collapsekit.Monitor("ring8", window=2)
    monitor.observe(0, torch.ones(4), torch.zeros(4), kind="critic")
    monitor.observe(1, torch.full((4,), float("inf")), torch.zeros(4), kind="critic")
    summary = monitor.close()
    assert summary.status == "diverged"
    assert summary.findings[0]["message"].startswith("critic scores became NaN or inf at step 1")
