"""CollapsekitCallback on a real Lightning Trainer: a small GAN, manual optimisation, CPU."""

from __future__ import annotations

import csv

import pytest
import torch

lightning = pytest.importorskip("lightning")  # installed by the test extra

from collapsekit.errors import CollapsekitError  # noqa: E402
from collapsekit.integrations.lightning import CollapsekitCallback  # noqa: E402
from collapsekit.runs import RunDir  # noqa: E402


@pytest.fixture(scope="module")
def example(load_example):
    return load_example("lightning_gan")


def test_the_callback_observes_evaluates_writes_the_run_and_logs_to_the_loggers(
    example, tmp_path, capsys
):
    callback = example.main(
        ["--steps", "300", "--eval-every", "100", "--eval-samples", "500", "--batch-size", "64",
         "--run-dir", str(tmp_path / "run"), "--log-dir", str(tmp_path / "logs")]
    )  # fmt: skip
    summary = callback.summary
    assert summary.status == "finished" and summary.step == 299
    run = RunDir.open(tmp_path / "run")
    assert run.read_history()["step"].tolist() == [0, 100, 200, 299]
    assert run.read_equilibrium()["step"].tolist() == list(range(300))
    assert run.read_config()["model"] == "lightning-gan"
    assert run.read_summary()["findings"] == summary.findings
    metrics = next((tmp_path / "logs").rglob("metrics.csv"))
    rows = list(csv.DictReader(metrics.open()))
    assert [int(row["step"]) for row in rows] == [0, 100, 200, 299]
    history = run.read_history()
    assert [float(r["collapsekit/modes_covered"]) for r in rows] == history[
        "modes_covered"
    ].tolist()
    assert float(rows[-1]["collapsekit/d_real"]) == pytest.approx(history["d_real"].iloc[-1])
    assert capsys.readouterr().out.startswith("status: finished, modes covered: ")


class NoOutputs(lightning.LightningModule):
    def __init__(self) -> None:
        super().__init__()
        self.net = torch.nn.Linear(2, 2)

    def training_step(self, batch, batch_idx):
        return self.net(batch).sum()

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=0.1)

    def sample(self, n: int) -> torch.Tensor:
        return torch.zeros(n, 2)


def test_a_training_step_without_d_outputs_is_one_clear_error(tmp_path):
    callback = CollapsekitCallback("ring8", run_dir=tmp_path / "run", eval_every=5)
    trainer = lightning.Trainer(max_steps=3, callbacks=[callback], logger=False, accelerator="cpu",
                                enable_progress_bar=False, enable_checkpointing=False,
                                enable_model_summary=False)  # fmt: skip
    data = torch.utils.data.DataLoader(torch.zeros(8, 2), batch_size=4)
    with pytest.raises(CollapsekitError, match='must return a dict .*"d_real"'):
        trainer.fit(NoOutputs(), data)
    assert RunDir.open(tmp_path / "run").read_summary()["status"] == "failed"
