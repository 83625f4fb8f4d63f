"""The Monitor refuses bad arguments in its constructor and in save_checkpoint, in one clear line.

Each case was found by a probe that fed a new user's mistakes to collapsekit: before,
they failed late (at evaluate or close), left an empty run folder, or were accepted.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

import collapsekit
from collapsekit.errors import CollapsekitError
from collapsekit.memory import format_bytes, machine_memory_bytes

INF = float("inf")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (dict(thresholds="x"), "thresholds must be a collapsekit.Thresholds, got str"),
        (dict(thresholds={"dominance_real": 0.9}), "thresholds must be a collapsekit.Thresholds"),
        (dict(min_share="x"), r"min_share must be a number in \[0, 1\], got 'x'"),
        (dict(min_share=1.5), r"min_share must lie in \[0, 1\], got 1.5"),
        (dict(snapshot_size="x"), "snapshot_size must be an integer >= 0, got 'x'"),
        (dict(snapshot_size=-1), "snapshot_size must be an integer >= 0, got -1"),
        (dict(config="lr=1"), "config must be a dict, got str"),
        (dict(config={"f": object()}), r"config\['f'\] holds object; store str\(value\) instead"),
        (dict(model=""), "model must be a non-empty string"),
        (dict(label=3), "label must be a non-empty string, got 3"),
        (dict(eval_seed=-1), "eval_seed must be an integer >= 0, got -1"),
        (dict(features=3), "features must be callable as features"),
    ],
)
def test_bad_arguments_are_refused_in_the_constructor(tmp_path, kwargs, message):
    with pytest.raises(CollapsekitError, match=message):
        collapsekit.Monitor(data="ring8", run_dir=tmp_path / "run", **kwargs)
    assert not (tmp_path / "run").exists()  # nothing half-made: no empty folder


def test_one_dimensional_real_samples_are_refused_with_the_fix():
    with pytest.raises(CollapsekitError, match=r"got shape \(500,\): reshape with data.reshape"):
        collapsekit.Monitor(data=torch.randn(500))
    monitor = collapsekit.Monitor(data=torch.randn(500).reshape(-1, 1))
    assert monitor.sample_shape == (1,)


def test_a_huge_evaluation_is_refused_before_allocating():
    with pytest.raises(CollapsekitError) as caught:
        collapsekit.Monitor(data="ring8", num_samples=10**12)
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith("num_samples=1,000,000,000,000 (2 floats each) needs about 14.6 TiB")
    assert f"more than this machine's {format_bytes(machine_memory_bytes())}" in message
    assert message.endswith("pass a smaller num_samples (the data's protocol is 2,500)")
    assert collapsekit.Monitor(data="ring8", num_samples=100_000).num_samples == 100_000


def test_infinite_logits_end_diverged_not_finished(tmp_path):
    monitor = collapsekit.Monitor(data="ring8", run_dir=tmp_path / "run", window=4)
    for step in range(6):
        real = torch.full((8,), INF if step == 3 else 1.0)
        monitor.observe(step, d_real=real, d_fake=torch.full((8,), -INF if step == 5 else -1.0))
    summary = monitor.close()
    assert summary.status == "diverged"
    assert summary.findings[0]["name"] == "diverged" and summary.findings[0]["start_step"] == 3
    stored = collapsekit.RunDir.open(tmp_path / "run").read_equilibrium()
    assert np.isnan(stored["d_real"][3]) and np.isnan(stored["d_fake"][5])
    assert stored["d_real"][0] == pytest.approx(torch.sigmoid(torch.tensor(1.0)).item())


def test_infinite_logits_in_a_large_output_are_divergence_too():
    monitor = collapsekit.Monitor(data="ring8")
    patch = torch.zeros(2, 128, 128)  # above the size reduced at once
    patch[1, 5, 5] = INF
    monitor.observe(0, d_real=patch, d_fake=torch.zeros(2, 128, 128))
    assert monitor.close().status == "diverged"


class Opaque:
    pass


@pytest.mark.parametrize(
    ("state", "message"),
    [
        ({"rng": np.zeros(3)}, r"state\['rng'\] holds numpy.ndarray.*torch.as_tensor"),
        (
            {"model": torch.nn.Linear(2, 2)},
            r"state\['model'\] holds torch.nn.modules.linear.Linear",
        ),
        ({"opt": {"extra": [1, Opaque()]}}, r"state\['opt'\]\['extra'\]\[1\] holds .*Opaque"),
        ({"step": np.int64(3)}, r"state\['step'\] holds numpy.int64"),
    ],
)
def test_save_checkpoint_refuses_a_state_that_resume_could_not_load(tmp_path, state, message):
    monitor = collapsekit.Monitor(data="ring8", run_dir=tmp_path / "run")
    with pytest.raises(CollapsekitError, match=f"save_checkpoint: {message}"):
        monitor.save_checkpoint(state)
    assert not (tmp_path / "run" / "checkpoint.pt").exists()


def test_save_checkpoint_accepts_what_resume_loads(tmp_path):
    net = torch.nn.Linear(2, 2)
    optimizer = torch.optim.Adam(net.parameters())
    net(torch.ones(1, 2)).sum().backward()
    optimizer.step()
    state = {"net": net.state_dict(), "optimizer": optimizer.state_dict(), "rng": torch.get_rng_state(),
             "shape": torch.Size([2]), "dtype": torch.float32, "name": "g", "none": None}  # fmt: skip
    monitor = collapsekit.Monitor(data="ring8", run_dir=tmp_path / "run")
    monitor.observe(0, torch.zeros(2), torch.zeros(2))
    monitor.save_checkpoint(state)
    resumed = collapsekit.Monitor(data="ring8", run_dir=tmp_path / "run", resume=True).resume()
    assert torch.equal(resumed["net"]["weight"], net.state_dict()["weight"])
    assert resumed["optimizer"]["state"][0]["step"] == optimizer.state_dict()["state"][0]["step"]
    assert json.loads((tmp_path / "run" / "config.json").read_text())["data"].startswith("ring8")
