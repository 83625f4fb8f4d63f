"""examples/custom_loop.py runs end to end in a short mode, with and without known modes."""

from __future__ import annotations

import json

import pytest

from collapsekit.runs import RunDir


@pytest.fixture(scope="module")
def example(load_example):
    return load_example("custom_loop")


SHORT = [
    "--steps",
    "100",
    "--eval-every",
    "50",
    "--batch-size",
    "64",
    "--hidden",
    "32",
    "--device",
    "cpu",
]


def test_example_with_a_known_dataset_stores_a_diagnosed_run(example, tmp_path, capsys):
    summary = example.main([*SHORT, "--run-dir", str(tmp_path / "my-gan")])
    assert summary.status == "finished" and summary.step == 100
    assert summary.metrics["modes_total"] == 8 and summary.metrics["num_samples"] == 2500
    run = RunDir.open(tmp_path / "my-gan")
    assert run.read_history()["step"].tolist() == [0, 50, 100]
    assert run.read_equilibrium()["step"].tolist() == list(range(101))
    stored = json.loads((tmp_path / "my-gan" / "summary.json").read_text())
    assert (
        stored["findings"] == summary.findings and stored["findings"]
    )  # 100 steps: not yet learned
    output = capsys.readouterr().out
    assert output.startswith("status: finished, final metrics: ")
    assert output.count("finding: ") == len(summary.findings)
    assert f"finding: {summary.findings[0]['name']} ({summary.findings[0]['severity']}): " in output


def test_example_with_real_samples_uses_feature_metrics(example, capsys):
    summary = example.main([*SHORT, "--real-samples", "600", "--eval-samples", "600"])
    assert summary.status == "finished"
    assert {"precision", "recall", "coverage", "ndb_frac"} <= set(summary.metrics)
    assert "modes_total" not in summary.metrics and summary.metrics["num_samples"] == 600
    assert "coverage=" in capsys.readouterr().out
