import math

import pandas as pd
import pytest
import torch

import reference_models
from collapsekit.runs import RunDir
from reference_models import loop
from reference_models.training import GANTrainer

VOLATILE = {"elapsed_s"}


def metrics_of(summary):
    """Metrics without timings, NaN made comparable (NaN != NaN)."""
    return {
        k: "nan" if isinstance(v, float) and math.isnan(v) else v
        for k, v in summary.metrics.items()
        if k not in VOLATILE
    }


def train_interrupted_at(step, config, run_dir, monkeypatch):
    """Train ``config`` into ``run_dir`` and stop it with Ctrl-C as it reaches ``step``."""
    original = GANTrainer.train_step

    def interrupt(self):
        if self.step == step:
            raise KeyboardInterrupt
        return original(self)

    monkeypatch.setattr(GANTrainer, "train_step", interrupt)
    with pytest.raises(KeyboardInterrupt):
        reference_models.train(config, run_dir, progress=False)
    monkeypatch.setattr(GANTrainer, "train_step", original)


def test_same_seed_same_metrics(tiny_config, tmp_path):
    first = reference_models.train(tiny_config(seed=3), tmp_path / "a", progress=False)
    second = reference_models.train(tiny_config(seed=3), tmp_path / "b", progress=False)
    other = reference_models.train(tiny_config(seed=4), None, progress=False)
    assert metrics_of(first) == metrics_of(second)
    assert metrics_of(first) != metrics_of(other)
    a = RunDir(tmp_path / "a").read_summary()["metrics"]
    b = RunDir(tmp_path / "b").read_summary()["metrics"]
    assert {k: a[k] for k in a if k not in VOLATILE} == {k: b[k] for k in b if k not in VOLATILE}


def test_run_folder_holds_everything(tiny_config, tmp_path):
    summary = reference_models.train(tiny_config(), tmp_path / "run", progress=False)
    run = RunDir.open(tmp_path / "run")
    assert summary.status == "finished" and summary.step == 40
    history = run.read_history()
    assert history["step"].tolist() == [0, 20, 40]  # initial, every eval_every, final
    assert history["num_samples"].tolist() == [300, 300, 300]
    equilibrium = run.read_equilibrium()
    assert equilibrium["step"].tolist() == list(range(1, 41))  # one row per step
    assert equilibrium[["d_real", "d_fake"]].apply(lambda c: c.between(0, 1).all()).all()
    samples = run.read_samples()
    assert samples["final"].shape == (300, 2)
    assert sorted(samples) == ["final", "step_00000000", "step_00000020", "step_00000040"]
    assert run.load_checkpoint()["trainer"]["step"] == 40
    saved = run.read_summary()
    for key in (
        "modes_captured",
        "modes_total",
        "high_quality_frac",
        "mode_counts",
        "mode_kl",
        "d_real",
        "d_fake",
    ):
        assert key in saved["metrics"]
    assert saved["metrics"]["d_real"] == pytest.approx(equilibrium["d_real"].tail(100).mean())


def test_resume_gives_the_same_result_as_an_uninterrupted_run(tiny_config, tmp_path, monkeypatch):
    whole = reference_models.train(tiny_config(steps=60), tmp_path / "whole", progress=False)

    train_interrupted_at(50, tiny_config(steps=60), tmp_path / "cut", monkeypatch)
    cut = RunDir.open(tmp_path / "cut")
    assert cut.read_summary()["status"] == "interrupted"
    assert cut.read_history()["step"].tolist() == [0, 20, 40]

    resumed = reference_models.resume(tmp_path / "cut", progress=False)
    assert resumed.status == "finished" and resumed.step == 60
    assert metrics_of(resumed) == metrics_of(whole)
    pd.testing.assert_frame_equal(
        cut.read_equilibrium(), RunDir(tmp_path / "whole").read_equilibrium()
    )
    assert cut.read_history()["step"].tolist() == [0, 20, 40, 60]


@pytest.mark.parametrize("where", ["first checkpoint", "between evaluation and loop", "resume"])
def test_a_folder_with_a_checkpoint_always_gets_a_summary(
    tiny_config, tmp_path, monkeypatch, where
):
    """Ctrl-C right after the first checkpoint (before the training loop) still marks the run."""
    import reference_models.loop as loop

    if where == "resume":
        reference_models.train(tiny_config(steps=20), tmp_path / "run", progress=False)
        (tmp_path / "run" / "summary.json").unlink()  # as if killed: the run resumes
        monkeypatch.setattr(GANTrainer, "load_state_dict", _raise_keyboard_interrupt)
        with pytest.raises(KeyboardInterrupt):
            reference_models.resume(tmp_path / "run", progress=False)
    else:
        target = "save_checkpoint" if where == "first checkpoint" else None
        if target:
            original = loop.collapsekit.Monitor.save_checkpoint

            def save_then_interrupt(self, state):
                original(self, state)
                raise KeyboardInterrupt

            monkeypatch.setattr(loop.collapsekit.Monitor, "save_checkpoint", save_then_interrupt)
        else:
            monkeypatch.setattr(loop, "_run_steps", _raise_keyboard_interrupt)
        with pytest.raises(KeyboardInterrupt):
            reference_models.train(tiny_config(steps=60), tmp_path / "run", progress=False)
    folder = RunDir.open(tmp_path / "run")
    assert folder.load_checkpoint() is not None
    assert folder.read_summary()["status"] == "interrupted"


def test_interrupted_before_the_first_checkpoint_leaves_no_summary(
    tiny_config, tmp_path, monkeypatch
):
    """Nothing to resume: no summary, so the folder plans as 'start again', not 'resume'."""
    import reference_models.loop as loop

    monkeypatch.setattr(loop.collapsekit.Monitor, "save_checkpoint", _raise_keyboard_interrupt)
    with pytest.raises(KeyboardInterrupt):
        reference_models.train(tiny_config(steps=60), tmp_path / "run", progress=False)
    folder = RunDir.open(tmp_path / "run")
    assert folder.load_checkpoint() is None and folder.read_summary() is None


def _raise_keyboard_interrupt(*args, **kwargs):
    raise KeyboardInterrupt


def test_nan_losses_stop_the_run_and_keep_the_history(tiny_config, tmp_path, monkeypatch):
    original = GANTrainer.train_step

    def poison_after_30(self):
        result = original(self)
        if self.step >= 30:
            with torch.no_grad():
                for parameter in self.generator.parameters():
                    parameter.fill_(math.nan)
            result.loss_generator = torch.tensor(math.nan)
        return result

    monkeypatch.setattr(GANTrainer, "train_step", poison_after_30)
    summary = reference_models.train(tiny_config(steps=200), tmp_path / "nan", progress=False)
    assert summary.status == "diverged"
    saved = RunDir(tmp_path / "nan").read_summary()
    assert saved["status"] == "diverged" and 30 <= saved["diverged_at"] <= 40
    history = RunDir(tmp_path / "nan").read_history()
    assert history["step"].tolist() == [
        0,
        20,
        40,
    ]  # what was measured before is kept; stops at once
    assert history["nonfinite_frac"].iloc[-1] == 1.0
    assert RunDir(tmp_path / "nan").load_checkpoint()["trainer"]["step"] == 20  # last good state


def test_bad_config_values_are_refused(tiny_config):
    with pytest.raises(ValueError, match="steps must be a positive integer, got 0"):
        reference_models.build_trainer(tiny_config(steps=0))
    with pytest.raises(ValueError, match="seed must be an integer from 0 to 4294967295, got -1"):
        reference_models.build_trainer(tiny_config(seed=-1))
    with pytest.raises(ValueError, match="unknown model 'gan9'; choose one of: .*vanilla"):
        reference_models.build_trainer(tiny_config(model="gan9"))
    with pytest.raises(ValueError, match="unknown option"):
        reference_models.build_trainer(tiny_config(options={"colour": 1}))


@pytest.mark.parametrize(
    "steps, every", [(1, 1), (25_000, 1), (50_000, 1), (50_001, 2), (400_000, 8), (500_000, 10)]
)
def test_long_runs_observe_d_at_a_stride_that_bounds_the_equilibrium_file(steps, every):
    assert loop.observe_every(steps) == every
    assert math.ceil(steps / every) <= loop.MAX_OBSERVED_STEPS


def test_a_long_run_observes_every_kth_step_and_resumes_on_the_same_steps(
    tiny_config, tmp_path, monkeypatch
):
    monkeypatch.setattr(loop, "MAX_OBSERVED_STEPS", 15)  # 60 steps: every 4th
    whole = reference_models.train(tiny_config(steps=60), tmp_path / "whole", progress=False)
    frame = RunDir(tmp_path / "whole").read_equilibrium()
    assert frame["step"].tolist() == list(range(4, 61, 4))
    unwatched = reference_models.train(tiny_config(steps=60), None, progress=False)
    monkeypatch.setattr(loop, "MAX_OBSERVED_STEPS", 60)  # every step: training is the same
    every_step = reference_models.train(tiny_config(steps=60), None, progress=False)
    for key in ("modes_captured", "high_quality_frac", "mode_counts"):
        assert whole.metrics[key] == unwatched.metrics[key] == every_step.metrics[key]

    monkeypatch.setattr(loop, "MAX_OBSERVED_STEPS", 15)
    train_interrupted_at(50, tiny_config(steps=60), tmp_path / "cut", monkeypatch)
    resumed = reference_models.resume(tmp_path / "cut", progress=False)
    assert metrics_of(resumed) == metrics_of(whole)
    pd.testing.assert_frame_equal(RunDir(tmp_path / "cut").read_equilibrium(), frame)
