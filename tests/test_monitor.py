"""The Monitor as a user's training loop sees it: observe, evaluate, close, the run store, bad input."""

from __future__ import annotations

import gc
import json
import math
import weakref

import numpy as np
import pytest
import torch
from torch import nn

import collapsekit
from collapsekit.errors import CollapsekitError
from collapsekit.monitor.recorder import check_probabilities
from collapsekit.runs import RunDir

RING = collapsekit.get_dataset("ring8")


def one_mode_generator(mode: int = 0) -> nn.Module:
    """A 'generator' that puts every sample on one ring mode (with dropout, to see eval mode)."""

    class OneMode(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.dropout = nn.Dropout(0.5)
            self.centre = nn.Parameter(RING.centres[mode].float().clone())

        def forward(self, z: torch.Tensor) -> torch.Tensor:
            assert not self.training, "the monitor must sample in eval mode"
            return self.centre + 0.0 * self.dropout(z[:, :2])  # (B, 2)

    return OneMode()


def test_the_issue_example_runs_and_reports_findings(tmp_path):
    generator = one_mode_generator()
    rows_seen = []
    monitor = collapsekit.Monitor(
        data="ring8", run_dir=tmp_path / "my-gan", eval_every=50, on_metrics=rows_seen.append
    )
    for step in range(201):
        real_logits = torch.full((64,), 4.0)  # sigmoid = 0.982: D sure of real
        fake_logits = torch.full((32, 1), -4.0)  # another batch size and shape
        monitor.observe(step, d_real=real_logits, d_fake=fake_logits)
        row = monitor.evaluate(step, sample_fn=lambda n: generator(torch.randn(n, 64)))
        assert (row is None) == (step % 50 != 0)
    summary = monitor.close()
    assert generator.training  # back in train mode
    assert [row["step"] for row in rows_seen] == [0, 50, 100, 150, 200]
    assert rows_seen[-1]["modes_covered"] == 1 and rows_seen[-1]["mode_counts"] == [2500] + [0] * 7
    assert rows_seen[-1]["d_real"] == pytest.approx(
        torch.sigmoid(torch.tensor(4.0)).item(), abs=1e-6
    )
    assert rows_seen[0]["d_fake"] == pytest.approx(
        torch.sigmoid(torch.tensor(-4.0)).item(), abs=1e-6
    )
    assert [f["name"] for f in summary.findings] == ["collapsed", "discriminator_dominance"]
    stored = json.loads((tmp_path / "my-gan" / "summary.json").read_text())
    assert stored["findings"] == summary.findings
    assert set(stored["findings"][0]) == {
        "name",
        "severity",
        "start_step",
        "end_step",
        "message",
        "evidence",
    }
    assert stored["status"] == "finished" and stored["step"] == 200
    run = RunDir.open(tmp_path / "my-gan")
    assert len(run.read_history()) == 5
    assert len(run.read_equilibrium()) == 201


def test_logits_and_probabilities_give_the_same_window_statistics():
    logits = torch.linspace(-3, 3, 50)
    as_logits = collapsekit.Monitor(data="ring8", window=10)
    as_probs = collapsekit.Monitor(data="ring8", window=10)
    for step in range(25):
        as_logits.observe(step, logits + step / 10, logits - 1)
        as_probs.observe(
            step, torch.sigmoid(logits + step / 10), torch.sigmoid(logits - 1), kind="probs"
        )
    expected = [torch.sigmoid(logits + s / 10).mean().item() for s in range(15, 25)]
    assert as_logits.equilibrium_now()["d_real"] == pytest.approx(sum(expected) / 10, abs=1e-6)
    assert as_probs.equilibrium_now() == pytest.approx(as_logits.equilibrium_now(), abs=1e-6)
    assert len(as_logits.equilibrium) == 25


def test_observe_accepts_any_batch_size_and_patch_outputs():
    monitor = collapsekit.Monitor(data="ring8")
    monitor.observe(0, torch.zeros(7), torch.zeros(3, 1))
    monitor.observe(1, torch.zeros(4, 1, 5, 5), torch.zeros(2, 1, 5, 5))  # PatchGAN-style
    monitor.observe(2, [0.0, 0.0], torch.zeros(1, dtype=torch.float64))
    assert monitor.equilibrium["d_real"].tolist() == [0.5, 0.5, 0.5]


def test_mixed_shapes_kinds_and_large_outputs_in_one_window_reduce_exactly():
    monitor = collapsekit.Monitor(data="ring8", window=1000)
    generator = torch.Generator().manual_seed(0)
    batches = [
        (torch.randn(64, generator=generator), torch.randn(64, 1, generator=generator), "logits"),
        (torch.randn(32, generator=generator), torch.randn(64, generator=generator), "logits"),
        (torch.rand(64, generator=generator), torch.rand(64, generator=generator), "probs"),
        (
            torch.randn(2, 1, 128, 128, generator=generator),
            torch.randn(3, 1, 128, 128).half(),
            "logits",
        ),  # large
    ]
    expected = []
    for step, (real, fake, kind) in enumerate(batches):
        monitor.observe(step, real, fake, kind=kind)
        to_probs = (
            (lambda x: x.float()) if kind == "probs" else (lambda x: torch.sigmoid(x.float()))
        )
        expected.append((to_probs(real).mean().item(), to_probs(fake).mean().item()))
    frame = monitor.equilibrium
    assert frame["d_real"].tolist() == pytest.approx([e[0] for e in expected], abs=1e-6)
    assert frame["d_fake"].tolist() == pytest.approx([e[1] for e in expected], abs=1e-6)


def test_observe_holds_no_reference_to_the_graph():
    monitor = collapsekit.Monitor(data="ring8", window=1000)
    weights = torch.randn(2, requires_grad=True)
    logits = torch.randn(64, 2) @ weights  # part of a graph
    alive = weakref.ref(logits)
    monitor.observe(0, logits, logits * 2)
    pending = monitor._recorder._pending_values
    assert len(pending) == 2 and all(v.grad_fn is None and not v.requires_grad for v in pending)
    del logits
    gc.collect()
    assert alive() is None


def test_nan_outputs_are_recorded_as_divergence_not_raised(tmp_path):
    monitor = collapsekit.Monitor(
        data="ring8", run_dir=tmp_path / "run", eval_every=1000, window=10
    )
    for step in range(30):
        value = math.nan if step >= 17 else 0.0
        monitor.observe(step, torch.full((8,), value), torch.zeros(8))
    summary = monitor.close()
    assert monitor.diverged_at == 17
    assert summary.status == "diverged"
    assert summary.findings[0]["name"] == "diverged" and summary.findings[0]["start_step"] == 17
    assert json.loads((tmp_path / "run" / "summary.json").read_text())["diverged_at"] == 17


def test_nan_samples_are_recorded_as_divergence():
    monitor = collapsekit.Monitor(data="ring8", eval_every=10)
    row = monitor.evaluate(0, lambda n: torch.full((n, 2), math.inf))
    assert row["nonfinite_frac"] == 1.0 and monitor.diverged_at == 0
    assert monitor.close().status == "diverged"


@pytest.mark.parametrize(
    ("d_real", "d_fake", "kind", "message"),
    [
        (
            torch.zeros(8, 1),
            torch.zeros(8, 3),
            "logits",
            "d_real has shape \\(8,\\) and d_fake \\(8, 3\\)",
        ),
        (torch.zeros(()), torch.zeros(8), "logits", "d_real must hold one output per sample"),
        (torch.zeros(8), torch.zeros(0), "logits", "d_fake must hold one output per sample"),
        (
            torch.zeros(8, dtype=torch.int64),
            torch.zeros(8),
            "logits",
            "d_real must hold floating-point",
        ),
        (
            torch.zeros(8),
            "fake",
            "logits",
            "d_fake must be a tensor of discriminator outputs, got str",
        ),
        (
            torch.zeros(8),
            torch.zeros(8),
            "softmax",
            "kind must be 'logits', 'probs' or 'critic', got 'softmax'",
        ),
    ],
)
def test_bad_discriminator_outputs_name_the_argument(d_real, d_fake, kind, message):
    monitor = collapsekit.Monitor(data="ring8")
    with pytest.raises(CollapsekitError, match=message):
        monitor.observe(0, d_real, d_fake, kind=kind)


def test_probabilities_outside_0_1_on_the_cpu_are_refused_at_once():
    monitor = collapsekit.Monitor(data="ring8", window=5)
    with pytest.raises(
        CollapsekitError, match="d_real given with kind='probs' holds 3,.*kind='logits'"
    ):
        monitor.observe(0, torch.full((4,), 3.0), torch.full((4,), 0.5), kind="probs")
    # a mean inside [0, 1] does not hide one value outside it
    with pytest.raises(CollapsekitError, match="d_fake given with kind='probs' holds -1"):
        monitor.observe(0, torch.full((4,), 0.5), torch.tensor([-1.0, 1.0, 1.0, 1.0]), kind="probs")
    assert monitor.equilibrium.empty


def test_probability_means_outside_0_1_are_caught_at_the_window_end():
    """Outputs on a GPU are checked when the window's means reach the CPU (no sync per step)."""
    steps, probs = np.array([7, 8]), np.array([True, True])
    with pytest.raises(
        CollapsekitError, match="d_real given with kind='probs' has mean 3 at step 8"
    ):
        check_probabilities(steps, np.array([0.5, 3.0]), np.array([0.5, 0.5]), probs)
    check_probabilities(steps, np.array([0.5, 3.0]), np.array([0.5, 0.5]), np.array([True, False]))


def test_steps_must_not_go_backwards():
    monitor = collapsekit.Monitor(data="ring8", eval_every=10)
    monitor.observe(5, torch.zeros(4), torch.zeros(4))
    monitor.observe(5, torch.zeros(4), torch.zeros(4))  # several D updates per step are fine
    with pytest.raises(CollapsekitError, match="step went backwards \\(4 after 5\\)"):
        monitor.observe(4, torch.zeros(4), torch.zeros(4))
    with pytest.raises(CollapsekitError, match="step went backwards \\(0 after 5\\)"):
        monitor.evaluate(0, lambda n: torch.zeros(n, 2))
    with pytest.raises(CollapsekitError, match="step must be an integer, got 5.5"):
        monitor.observe(5.5, torch.zeros(4), torch.zeros(4))


def test_evaluate_checks_sample_fn_and_keeps_the_latest_row_per_step():
    monitor = collapsekit.Monitor(data="ring8", eval_every=10, num_samples=100)
    with pytest.raises(
        CollapsekitError,
        match="sample_fn\\(100\\) returned shape \\(100, 3\\); ring8 needs \\(100, 2\\)",
    ):
        monitor.evaluate(0, lambda n: torch.zeros(n, 3))
    with pytest.raises(CollapsekitError, match="returned ndarray; it must return a torch.Tensor"):
        monitor.evaluate(0, lambda n: torch.zeros(n, 2).numpy())
    monitor.evaluate(0, lambda n: RING.centres[:1].float().expand(n, 2))
    row = monitor.evaluate(0, lambda n: RING.centres.float().repeat(n // 8 + 1, 1)[:n])
    assert monitor.history["modes_captured"].tolist() == [8] and row["modes_captured"] == 8
    assert monitor.evaluate(5, lambda n: torch.zeros(n, 2)) is None
    assert monitor.evaluate(5, lambda n: torch.zeros(n, 2), force=True)["num_samples"] == 100


def test_sampling_is_chunked_without_gradients():
    monitor = collapsekit.Monitor(data="ring8", num_samples=1000, sample_chunk=300)
    calls = []

    def sample_fn(n):
        calls.append((n, torch.is_grad_enabled()))
        return torch.zeros(n, 2)

    monitor.evaluate(0, sample_fn)
    assert calls == [(300, False), (300, False), (300, False), (100, False)]


def test_context_manager_closes_on_an_exception_and_keeps_the_history(tmp_path):
    generator = one_mode_generator(3)
    with pytest.raises(RuntimeError, match="out of memory"):
        with collapsekit.Monitor(data="ring8", run_dir=tmp_path / "run", eval_every=10) as monitor:
            for step in range(25):
                monitor.observe(step, torch.zeros(4), torch.zeros(4))
                monitor.evaluate(step, lambda n: generator(torch.randn(n, 2)))
                if step == 23:
                    raise RuntimeError("CUDA out of memory")
    stored = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert stored["status"] == "failed" and stored["error"] == "RuntimeError: CUDA out of memory"
    assert stored["step"] == 23
    assert [f["name"] for f in stored["findings"]][0] == "collapsed"
    assert RunDir.open(tmp_path / "run").read_history()["step"].tolist() == [0, 10, 20]
    assert len(RunDir.open(tmp_path / "run").read_equilibrium()) == 24
    with pytest.raises(KeyboardInterrupt):
        with collapsekit.Monitor(data="ring8", run_dir=tmp_path / "stopped") as monitor:
            raise KeyboardInterrupt
    assert (
        json.loads((tmp_path / "stopped" / "summary.json").read_text())["status"] == "interrupted"
    )


def test_close_is_idempotent_and_final():
    monitor = collapsekit.Monitor(data="ring8")
    first = monitor.close()
    assert monitor.close() is first and first.status == "finished" and first.findings == []
    with pytest.raises(CollapsekitError, match="observe called after close"):
        monitor.observe(0, torch.zeros(2), torch.zeros(2))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (dict(data=5), "data must be a dataset name, a Dataset or a tensor of real samples"),
        (dict(data="ring9"), "unknown dataset 'ring9'"),
        (dict(data="ring8", eval_every=0), "eval_every must be a positive integer, got 0"),
        (dict(data="ring8", num_samples=-1), "num_samples must be a positive integer, got -1"),
        (dict(data="ring8", on_metrics="print"), "on_metrics must be callable"),
        (dict(data=torch.zeros(10, 2, 2).flatten(1)[:1]), "pass at least a few hundred"),
    ],
)
def test_bad_constructor_arguments(kwargs, message):
    with pytest.raises(CollapsekitError, match=message):
        collapsekit.Monitor(**kwargs)


def test_a_short_vanilla_run_on_ring8_collapses_and_the_discriminator_is_blind(
    tmp_path, tiny_config
):
    """Vanilla GAN, 200 tiny steps: it covers no mode robustly while D(x) and D(G(z)) sit near 1/2."""
    import reference_models

    config = tiny_config(steps=200, eval_every=20)
    summary = reference_models.train(config, tmp_path / "vanilla", progress=False)
    names = [f["name"] for f in summary.findings]
    assert names == ["collapsed", "blind_discriminator"]
    assert summary.findings[0]["evidence"]["modes_covered"] <= 2
    assert abs(summary.findings[1]["evidence"]["d_real"] - 0.5) <= 0.1
    stored = json.loads((tmp_path / "vanilla" / "summary.json").read_text())
    assert [f["name"] for f in stored["findings"]] == names


def test_real_samples_as_data_give_feature_metrics_only():
    real = RING.sample(800, torch.Generator().manual_seed(0))
    monitor = collapsekit.Monitor(data=real, eval_every=10)
    assert monitor.num_samples == 800 and monitor.config["data"] == "samples(800, 2)"
    good = monitor.evaluate(0, lambda n: RING.sample(n, torch.Generator().manual_seed(1)))
    one_mode = monitor.evaluate(10, lambda n: RING.centres[2].float() + 0.02 * torch.randn(n, 2))
    assert "modes_captured" not in good
    assert set(good) >= {
        "precision",
        "recall",
        "density",
        "coverage",
        "ndb",
        "ndb_frac",
        "num_samples",
    }
    assert good["coverage"] > 0.9 and good["recall"] > 0.9 and good["ndb_frac"] <= 0.2
    assert one_mode["coverage"] < 0.2 and one_mode["recall"] < 0.2 and one_mode["ndb_frac"] >= 0.5
    assert one_mode["precision"] > 0.9  # what it makes is real-looking: a collapse, not noise
    (collapsed,) = monitor.close().findings
    assert collapsed["name"] == "collapsed" and collapsed["start_step"] == 10
    assert collapsed["message"].startswith("has coverage 0.")


def test_a_feature_function_is_applied_to_real_and_generated_samples():
    real = RING.sample(400, torch.Generator().manual_seed(0))
    fake = RING.sample(400, torch.Generator().manual_seed(1))
    plain = collapsekit.Monitor(data=real).evaluate(0, lambda n: fake[:n])
    scaled = collapsekit.Monitor(data=real, features=lambda x: 10 * x).evaluate(
        0, lambda n: fake[:n]
    )
    for key in ("precision", "recall", "density", "coverage"):  # k-NN metrics ignore a common scale
        assert scaled[key] == pytest.approx(plain[key])
    with pytest.raises(CollapsekitError, match="features\\(real samples\\) must be 2-dimensional"):
        collapsekit.Monitor(data=real, features=lambda x: x[:, 0]).evaluate(0, lambda n: fake[:n])
    with pytest.raises(
        CollapsekitError, match="returned shape \\(400, 3\\); the real samples given as data needs"
    ):
        collapsekit.Monitor(data=real).evaluate(0, lambda n: torch.zeros(n, 3))
