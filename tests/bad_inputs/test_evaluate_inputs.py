"""Bad inputs to ``collapsekit evaluate`` and ``collapsekit.evaluate``: one clear error each, no traceback.

Each case is one the hardening probe (issue 19) met as a traceback, a wrong
message or an allocation that failed only after it was tried.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from click.testing import CliRunner

import collapsekit
from collapsekit.cli import main
from collapsekit.limits import MAX_SEED

RING = collapsekit.get_dataset("ring8")
GOOD = RING.sample(300, torch.Generator().manual_seed(0))  # (300, 2)


def evaluate_cli(*arguments: object):
    return CliRunner().invoke(main, ["evaluate", *map(str, arguments)])


def one_line_error(result) -> str:
    """The error line of a CLI result that must have failed cleanly (exit 2, no traceback)."""
    assert result.exit_code == 2, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    lines = result.output.strip().splitlines()
    assert len(lines) == 1, result.output
    return lines[0]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("a string", "holds a str, not an array of samples"),
        ({"samples": "not numbers"}, "holds no array of samples (it holds samples: str)"),
        ({}, "holds no array of samples (it is empty)"),
    ],
)
def test_pt_files_without_samples_are_named(tmp_path, content, message):
    path = tmp_path / "bad.pt"
    torch.save(content, path)
    assert message in one_line_error(evaluate_cli(path, "--data", "ring8"))


def test_an_empty_npz_says_it_is_empty(tmp_path):
    np.savez(tmp_path / "empty.npz")
    line = one_line_error(evaluate_cli(tmp_path / "empty.npz", "--data", "ring8"))
    assert line == f"Error: {str(tmp_path / 'empty.npz')!r} holds no array of samples (it is empty)"


@pytest.mark.filterwarnings("ignore:Sparse CSR tensor support is in beta")
@pytest.mark.parametrize("layout", ["coo", "csr"])
def test_sparse_samples_are_scored_as_their_dense_values(tmp_path, layout):
    sparse = GOOD.to_sparse() if layout == "coo" else GOOD.to_sparse_csr()
    torch.save(sparse, tmp_path / "sparse.pt")
    dense = collapsekit.evaluate(GOOD, "ring8", metrics="modes")
    result = evaluate_cli(tmp_path / "sparse.pt", "--data", "ring8", "--metrics", "modes")
    assert result.exit_code == 0, result.output
    assert f"modes_captured     {dense['modes_captured']}" in result.output
    assert "Warning" not in result.output  # torch's note on validating sparse tensors is not shown
    assert collapsekit.evaluate(sparse, "ring8", metrics="modes") == dense


def test_float64_values_beyond_float32_are_called_so_not_nan(tmp_path):
    np.save(tmp_path / "huge.npy", np.full((100, 2), 1e300))
    line = one_line_error(evaluate_cli(tmp_path / "huge.npy", "--data", "ring8"))
    assert "hold values up to 1e+300, beyond float32's range" in line
    assert "NaN" not in line


def test_nan_in_real_samples_is_not_blamed_on_the_generator(tmp_path):
    np.save(tmp_path / "fake.npy", GOOD.numpy())
    np.save(tmp_path / "real.npy", np.full((300, 2), np.nan, dtype=np.float32))
    line = one_line_error(evaluate_cli(tmp_path / "fake.npy", "--real", tmp_path / "real.npy"))
    assert "real samples contain NaN or inf in 300 of 300 rows" in line
    assert "generator" not in line


@pytest.mark.parametrize("seed", [-5, MAX_SEED + 1, 2**64 - 1])
def test_seeds_out_of_range_are_refused_up_front(tmp_path, seed):
    np.save(tmp_path / "fake.npy", GOOD.numpy())
    line = one_line_error(evaluate_cli(tmp_path / "fake.npy", "--data", "ring8", "--seed", seed))
    assert line == f"Error: seed must be an integer from 0 to {MAX_SEED}, got {seed}"


def test_a_baseline_larger_than_memory_is_refused_before_allocating():
    line = one_line_error(evaluate_cli("--data", "ring8", "--baseline", "--num-samples", 10**13))
    assert "num_samples=10,000,000,000,000 (a baseline and as many real samples) need about" in line
    assert "more than this machine can spare" in line


def test_the_memory_limit_is_what_the_machine_has_now(monkeypatch):
    monkeypatch.setattr("collapsekit.limits.available_memory_bytes", lambda: 100_000)
    with pytest.raises(collapsekit.CollapsekitError, match="more than this machine can spare"):
        collapsekit.evaluate(dataset="ring8", baseline=True, num_samples=10_000)  # 160 kB
    assert collapsekit.evaluate(dataset="ring8", baseline=True, num_samples=1_000, metrics="modes")


def test_huge_samples_give_a_finite_kid_spread_without_numpy_warnings(recwarn):
    huge = torch.full((300, 2), 1e38)
    result = collapsekit.evaluate(huge, real=GOOD, metrics="kid")
    assert np.isfinite(result["kid_std"]) and result["kid"] > 1e200
    assert not [w for w in recwarn if "overflow" in str(w.message)]


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"samples": torch.empty(10, 2, device="meta")}, "samples are a meta tensor"),
        ({"samples": GOOD, "metrics": 5}, "metrics must be names like 'fid,precision_recall'"),
        ({"samples": GOOD, "metrics": ["modes", 3]}, "metrics must be names like"),
        ({"baseline": True, "num_samples": 2.5}, "num_samples must be a positive integer, got 2.5"),
        ({"baseline": True, "num_samples": True}, "num_samples must be a positive integer, got True"),
        ({"samples": GOOD, "seed": "x"}, "seed must be an integer from 0 to 4294967295, got 'x'"),
        ({"samples": GOOD, "seed": 2**70}, "seed must be an integer from 0 to 4294967295"),
        ({"samples": GOOD, "min_share": "x"}, "min_share must lie in \\[0, 1\\], got 'x'"),
        ({"samples": GOOD, "device": "nonsense"}, "unknown device 'nonsense'"),
    ],
)
def test_library_arguments_are_checked_with_a_clear_error(arguments, message):
    with pytest.raises(collapsekit.CollapsekitError, match=message):
        collapsekit.evaluate(dataset="ring8", **arguments)
