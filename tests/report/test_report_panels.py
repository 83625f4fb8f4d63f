from pathlib import Path

import numpy as np
import pandas as pd

from collapsekit.report.loading import RunRecord
from collapsekit.report.panels import HEADING_CHARS, panel_heading


def record(model: str, options: str, status: str = "finished", seed: int = 3) -> RunRecord:
    return RunRecord(
        path=Path(f"runs/{model}-ring8-seed{seed}"),
        config={"model": model, "data": "ring8", "seed": seed},
        row={"options": options, "status": status},
        metrics={},
        history=pd.DataFrame(),
        equilibrium=pd.DataFrame(),
        final_samples=np.zeros((0, 2)),
    )


def test_short_headings_stay_on_one_line():
    assert panel_heading(record("vanilla", "")) == "vanilla · seed 3"
    assert panel_heading(record("unrolled", "unroll_steps=5")) == "unrolled (unroll_steps=5) · seed 3"


def test_long_headings_break_after_the_label_so_neighbours_never_overlap():
    heading = panel_heading(record("minibatch", "kernel_dim=5,kernels=5", status="incomplete"))
    assert heading == "minibatch (kernel_dim=5,kernels=5)\nseed 3 [incomplete]"
    assert all(len(line) <= HEADING_CHARS for line in heading.split("\n"))


def test_bundled_datasets_come_in_registry_order_then_others_by_name():
    from collapsekit.report.sections import dataset_order

    specs = ["zeta-custom", "grid25", "ring8:std=0.05", "alpha-custom", "ring8"]
    assert sorted(specs, key=dataset_order) == [
        "ring8", "ring8:std=0.05", "grid25", "alpha-custom", "zeta-custom"
    ]
