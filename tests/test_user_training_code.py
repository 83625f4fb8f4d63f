"""collapsekit added to other people's training code: the problems a new user met, each solved.

Custom mixtures stored and rebuilt, a scale warning, blurry is not collapsed, the
training's randomness untouched by watching, and runs labelled so they never
average into one report row by accident. (WGAN critics: tests/test_critic.py.)
"""

from __future__ import annotations

import json
import logging
import warnings

import numpy as np
import pytest
import torch
from click.testing import CliRunner

import collapsekit
from collapsekit.cli import main as cli
from collapsekit.report.loading import load_records
from collapsekit.report.sections import dataset_for, setting_notes
from collapsekit.report.tables import comparison_table

RING = collapsekit.get_dataset("ring8")
CENTRES = [[-1.0, 0.0], [1.0, 0.0], [0.0, 1.5]]


def three_modes() -> collapsekit.GaussianMixture:
    return collapsekit.GaussianMixture(CENTRES, std=0.05, weights=[1, 1, 2], name="three")


def mixture_samples(n: int, mixture: collapsekit.GaussianMixture, seed: int = 0) -> torch.Tensor:
    return mixture.sample(n, torch.Generator().manual_seed(seed))


def test_a_custom_mixture_is_stored_and_rebuilt_by_report_evaluate_and_resume(tmp_path):
    mixture = three_modes()
    monitor = collapsekit.Monitor(mixture, run_dir=tmp_path / "run", eval_every=5)
    monitor.evaluate(0, sample_fn=lambda n: mixture_samples(n, mixture))
    monitor.save_checkpoint({"step": 0})
    monitor.close()
    config = json.loads((tmp_path / "run" / "config.json").read_text())
    assert config["data"] == "three"
    assert config["mixture"]["centres"] == CENTRES and config["mixture"]["std"] == 0.05
    assert config["mixture"]["weights"] == [0.25, 0.25, 0.5]
    # report: the mode centres come back, not nothing
    records, _ = load_records([tmp_path])
    rebuilt = dataset_for("three", records)
    assert rebuilt.centres.tolist() == CENTRES and rebuilt.mode_weights.tolist() == [
        0.25,
        0.25,
        0.5,
    ]
    # resume: the data comes from config.json
    resumed = collapsekit.Monitor(None, run_dir=tmp_path / "run", resume=True)
    assert resumed.dataset.to_dict() == mixture.to_dict()
    # evaluate --data-file, from a saved mixture and from the run's config.json
    mixture.to_json(tmp_path / "mixture.json")
    np.save(tmp_path / "samples.npy", mixture_samples(2500, mixture, seed=1).numpy())
    for data_file in (tmp_path / "mixture.json", tmp_path / "run" / "config.json"):
        result = CliRunner().invoke(
            cli, ["evaluate", str(tmp_path / "samples.npy"), "--data-file", str(data_file),
                  "--metrics", "modes", "--json"],
        )  # fmt: skip
        assert result.exit_code == 0, result.output
        scores = json.loads(result.output)
        assert scores["modes_captured"] == 3 and scores["modes_covered"] == 3


def test_a_custom_mixture_scores_exactly_like_the_built_in_one():
    copy = collapsekit.GaussianMixture(RING.centres, std=RING.std, name="my-ring")
    samples = RING.sample(2500, torch.Generator().manual_seed(3)) * torch.tensor([1.0, 0.97])
    ours = collapsekit.evaluate(samples, copy, metrics="modes,precision_recall")
    built_in = collapsekit.evaluate(samples, "ring8", metrics="modes,precision_recall")
    assert ours == built_in


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{}", "holds no mixture"),
        ('{"centres": [[0, 0]], "std": -1}', "std must be positive"),
        ("not json", "is not a JSON mixture"),
    ],
)
def test_a_bad_mixture_file_is_one_line_with_exit_code_2(tmp_path, text, message):
    (tmp_path / "mixture.json").write_text(text)
    np.save(tmp_path / "samples.npy", np.zeros((10, 2), dtype=np.float32))
    result = CliRunner().invoke(
        cli,
        ["evaluate", str(tmp_path / "samples.npy"), "--data-file", str(tmp_path / "mixture.json")],
    )
    assert result.exit_code == 2 and message in result.output
    assert "Traceback" not in result.output


def test_samples_on_the_wrong_scale_are_named_by_evaluate_and_the_monitor(tmp_path, caplog):
    samples = RING.sample(2500, torch.Generator().manual_seed(0)) / 1.414
    np.save(tmp_path / "samples.npy", samples.numpy())
    result = CliRunner().invoke(cli, ["evaluate", str(tmp_path / "samples.npy"), "--data", "ring8"])
    assert result.exit_code == 0
    assert "Warning: samples span 1.41x less than the modes: a different scale?" in result.output
    monitor = collapsekit.Monitor("ring8")
    with caplog.at_level(logging.WARNING, logger="collapsekit"):
        monitor.evaluate(0, sample_fn=lambda n: samples[:n])
        monitor.evaluate(500, sample_fn=lambda n: samples[:n])
    warned = [r.getMessage() for r in caplog.records if "a different scale?" in r.getMessage()]
    assert len(warned) == 1 and "samples span 1.41x less than the modes" in warned[0]
    # good samples, or a collapse onto one mode, raise no scale warning
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        collapsekit.evaluate(RING.sample(2500), "ring8", metrics="modes")
        collapsekit.evaluate(RING.centres[:1].float().repeat(2500, 1), "ring8", metrics="modes")
    assert not [w for w in caught if "scale" in str(w.message)]


def test_blurry_samples_are_low_quality_and_one_point_is_collapsed():
    grid = collapsekit.get_dataset("grid25")
    blurry = torch.randn(2500, 2, generator=torch.Generator().manual_seed(0)) * 2.5
    one_point = grid.centres[:1].float().repeat(2500, 1)
    for name, samples in (("blurry", blurry), ("point", one_point)):
        monitor = collapsekit.Monitor("grid25", eval_every=100)
        for step in (0, 100, 200):
            monitor.evaluate(step, sample_fn=lambda n, s=samples: s[:n])
        findings = monitor.close().findings
        if name == "blurry":
            assert [f["name"] for f in findings] == ["low_quality"]
            assert findings[0]["message"].startswith(
                "samples spread over the modes (25 of 25 reached) but only"
            )
            assert "blurry samples, not a collapse" in findings[0]["message"]
            assert findings[0]["evidence"]["high_quality_frac"] < 0.1
        else:
            assert [f["name"] for f in findings] == ["collapsed"]
            assert (
                "a collapse, not blur: samples reach only 1 of 25 modes at all"
                in findings[0]["message"]
            )


def test_blurry_samples_without_known_modes_are_low_quality_too():
    history = [{"step": s, "coverage": 0.3, "recall": 0.99, "precision": 0.03} for s in (0, 100)]
    found = collapsekit.diagnose(history)
    assert [f.name for f in found] == ["low_quality"]
    assert (
        "recall 0.99" in found[0].message and "only 3.0% lie on it (precision)" in found[0].message
    )
    sharp = [{"step": s, "coverage": 0.1, "recall": 0.1, "precision": 0.95} for s in (0, 100)]
    assert [f.name for f in collapsekit.diagnose(sharp)] == ["collapsed"]


def train(watch: bool, steps: int = 40) -> list[float]:
    """A small GAN loop; with ``watch`` a Monitor samples with torch.randn every 10 steps."""
    torch.manual_seed(0)
    generator = torch.nn.Sequential(
        torch.nn.Linear(4, 16), torch.nn.Dropout(0.2), torch.nn.Linear(16, 2)
    )
    critic = torch.nn.Linear(2, 1)
    optimizer = torch.optim.Adam([*generator.parameters(), *critic.parameters()], lr=1e-3)
    monitor = collapsekit.Monitor("ring8", eval_every=10, num_samples=256) if watch else None
    losses = []
    for step in range(steps):
        real = RING.sample(32)  # the global generator, as user code does
        fake = generator(torch.randn(32, 4))
        loss = critic(fake).mean() - critic(real).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
        if monitor is not None:
            monitor.observe(step, critic(real), critic(fake), kind="critic")
            monitor.evaluate(step, sample_fn=lambda n: generator(torch.randn(n, 4)))
    return losses


def test_watching_a_run_leaves_its_training_bit_for_bit_the_same():
    assert train(watch=True) == train(watch=False)


def test_the_monitor_draws_the_same_noise_at_every_evaluation():
    monitor = collapsekit.Monitor("ring8", eval_every=1, num_samples=64)
    drawn = []
    for step in range(2):
        torch.randn(5)  # the training moves the global generator on
        monitor.evaluate(step, sample_fn=lambda n: drawn.append(torch.randn(n, 2)) or drawn[-1])
    assert torch.equal(drawn[0], drawn[1])


def run_folder(path, **monitor_arguments) -> None:
    monitor = collapsekit.Monitor("ring8", run_dir=path, eval_every=5, **monitor_arguments)
    monitor.evaluate(0, sample_fn=lambda n: RING.sample(n))
    monitor.close()


def test_runs_that_name_nothing_never_average_into_one_report_row(tmp_path):
    run_folder(tmp_path / "wgan-try")
    run_folder(tmp_path / "gan-try")
    records, _ = load_records([tmp_path])
    assert sorted(comparison_table(records)["model"]) == ["gan-try", "wgan-try"]


def test_model_and_label_name_the_report_rows_and_differing_settings_are_warned(tmp_path):
    run_folder(tmp_path / "a", model="wgan-gp", config={"seed": 0, "lr": 1e-4})
    run_folder(tmp_path / "b", model="wgan-gp", config={"seed": 1, "lr": 1e-4})
    run_folder(tmp_path / "c", model="gan", config={"seed": 0})
    run_folder(tmp_path / "d", model="gan", label="gan lr=2e-4", config={"seed": 0, "lr": 2e-4})
    run_folder(tmp_path / "e", model="gan", label="gan lr=2e-4", config={"seed": 1, "lr": 5e-4})
    records, _ = load_records([tmp_path])
    table = comparison_table(records)
    assert dict(zip(table["model"], table["runs"], strict=True)) == {
        "gan": 1,
        "gan lr=2e-4": 2,
        "wgan-gp": 2,
    }
    notes = setting_notes(records)
    assert notes == [
        "The runs of gan lr=2e-4 differ in more than the seed (lr: 0.0002, 0.0005); their mean mixes settings."
    ]
