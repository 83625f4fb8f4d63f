"""Fixtures of the reference-model tests: ``collapsekit run`` of a few steps through click's runner."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from collapsekit.cli import main


@pytest.fixture
def small_run():
    """``small_run(*args)``: ``collapsekit run *args`` for 6 steps on small batches, on the CPU.

    Returns click's result (``exit_code``, ``output``); exceptions propagate.
    """

    def invoke(*args):
        small = ["--steps", 6, "--eval-every", 3, "--eval-samples", 200, "--batch-size", 32]
        arguments = ["run", *args, *small, "--no-progress", "--device", "cpu"]
        return CliRunner().invoke(main, [str(a) for a in arguments], catch_exceptions=False)

    return invoke
