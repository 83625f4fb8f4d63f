"""The WGAN-GP and TensorBoard examples run end to end in a short mode; the line count holds."""

from __future__ import annotations

from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"

# What collapsekit adds to a WGAN-GP loop on a custom mixture (docs/monitor.md quotes them).
WGAN_GP_LINES = [
    "import collapsekit",
    'mixture = collapsekit.GaussianMixture(CENTRES, std=0.02, name="8gaussians")',
    'monitor = collapsekit.Monitor(mixture, args.run_dir, args.eval_every, model="wgan-gp")',
    'monitor.observe(step, d_real=score_real, d_fake=score_fake, kind="critic")',
    "monitor.evaluate(step, sample_fn=lambda n: generator(torch.randn(n, 2)))",
    "summary = monitor.close()",
]


def test_the_wgan_gp_example_adds_five_lines_and_the_import():
    code = [
        line.split("#")[0].strip()
        for line in (EXAMPLES / "wgan_gp_mixture.py").read_text().splitlines()
    ]
    added = [
        line
        for line in code
        if "collapsekit." in line or "monitor." in line or line == "import collapsekit"
    ]
    added = [line for line in added if not line.startswith(("def ", "parser", "print"))]
    assert added == WGAN_GP_LINES


def test_the_wgan_gp_example_runs_on_its_custom_mixture_as_a_critic(tmp_path, capsys, load_example):
    summary = load_example("wgan_gp_mixture").main(
        ["--steps", "40", "--eval-every", "20", "--hidden", "32", "--batch-size", "64",
         "--critic-steps", "2", "--run-dir", str(tmp_path / "run")]
    )  # fmt: skip
    assert summary.status == "finished" and summary.step == 40
    assert summary.metrics["modes_total"] == 8 and "wasserstein_estimate" in summary.metrics
    assert "d_real" not in summary.metrics
    config = (tmp_path / "run" / "config.json").read_text()
    assert '"model": "wgan-gp"' in config and '"std": 0.02' in config
    assert "critic_real" in (tmp_path / "run" / "equilibrium.csv").read_text().splitlines()[0]
    assert capsys.readouterr().out.startswith("status: finished, modes covered: ")


def test_the_tensorboard_example_writes_an_event_file(tmp_path, load_example):
    pytest.importorskip("tensorboard")
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    summary = load_example("tensorboard_loop").main(
        ["--steps", "40", "--eval-every", "20", "--eval-samples", "500", "--log-dir", str(tmp_path)]
    )
    events = EventAccumulator(str(tmp_path))
    events.Reload()
    assert summary.status == "finished"
    assert [s.step for s in events.Scalars("collapsekit/modes_covered")] == [0, 20, 40]
    assert len(events.Scalars("loss/discriminator")) == 41
    assert len(events.Images("collapsekit/samples")) == 3
