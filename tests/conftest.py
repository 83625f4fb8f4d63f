"""Shared test fixtures: tiny training configs that finish in a second or two."""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

import pytest
import torch

# Tests compare numbers across runs; keep them on one thread so results are
# identical however many cores the machine has and whatever else it is doing.
torch.set_num_threads(1)
os.environ.setdefault("OMP_NUM_THREADS", "1")


@pytest.fixture
def tiny_config():
    """A vanilla run small enough for unit tests (a fraction of a second per 10 steps)."""
    from reference_models import TrainConfig

    def make(**overrides) -> TrainConfig:
        values = dict(
            steps=40,
            eval_every=20,
            eval_samples=300,
            batch_size=64,
            z_dim=16,
            hidden=32,
            device="cpu",
        )
        values.update(overrides)
        return TrainConfig(**values)

    return make


EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


@pytest.fixture(scope="session")
def load_example():
    """Import ``examples/<name>.py`` as a module (the examples are scripts, not a package)."""

    def load(name: str):
        spec = importlib.util.spec_from_file_location(f"example_{name}", EXAMPLES / f"{name}.py")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module

    return load


@pytest.fixture
def fashion_mnist_files():
    """Skip a test when Debian's Fashion-MNIST files are absent, saying how to get them.

    ``.ci/run`` sets COLLAPSEKIT_REQUIRE_FASHION_MNIST=1 where it could install them,
    and then a missing file fails the test instead of skipping it.
    """
    from collapsekit.data.fashion import FASHION_MNIST_FOLDER, fashion_available

    if not fashion_available():
        message = (
            f"no Fashion-MNIST files in {FASHION_MNIST_FOLDER}: install Debian's "
            "dataset-fashion-mnist (`make install` does where apt-get works) to run this test"
        )
        if os.environ.get("COLLAPSEKIT_REQUIRE_FASHION_MNIST"):
            pytest.fail(message)
        pytest.skip(message)
    return FASHION_MNIST_FOLDER
