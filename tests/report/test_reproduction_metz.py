"""PacGAN Table 3 (Metz et al.'s stacked MNIST) in the reproduction report, on fake runs."""

import struct

import pandas as pd
import pytest

from collapsekit.report import build_reproductions
from collapsekit.report.reproduction_plots import coverage_plots
from collapsekit.report.reproduction_runs import histories
from collapsekit.report.tables import confidence_interval

QUARTER = "PacGAN Table 3 (MNIST), D = 1/4 G"
HALF = "PacGAN Table 3 (MNIST), D = 1/2 G"
METHODS = ["DCGAN", "Unrolled GAN (1 step)", "Unrolled GAN (5 steps)", "Unrolled GAN (10 steps)",
           "PacDCGAN2"]
STAND_IN = "published on MNIST digits: only the ordering compares"


@pytest.fixture(scope="module")
def report(tmp_path_factory, make_runs, make_run):
    root = tmp_path_factory.mktemp("metz-runs")
    metz = dict(steps=20_000)
    digits, fashion = "stacked-digits", "stacked-fashion"
    quarter, half = dict(d_width="quarter", **metz), dict(d_width="half", **metz)
    make_runs(root, "metz", "vanilla", {}, digits, [25, 30, 36], [5.0, 5.2, 5.1], **quarter)
    make_runs(root, "metz", "unrolled", {"unroll_steps": 5}, digits, [200, 220, 210],
              [4.0, 4.2, 4.1], **quarter)
    make_runs(root, "metz", "pacgan", {"pack": 2}, digits, [480, 500, 490], [2.5, 2.7, 2.6],
              **quarter)
    make_runs(root, "metz", "vanilla", {}, digits, [840, 850, 845], **half)
    make_runs(root, "metz", "pacgan", {"pack": 2}, digits, [700, 710, 705], **half)
    make_run(root, "metz", "vanilla", {}, digits, 9, 999, d_width="full", **metz)  # no table's
    make_runs(root, "metz", "vanilla", {}, fashion, [10, 12, 14], **quarter)
    make_runs(root, "metz", "pacgan", {"pack": 2}, fashion, [300, 320, 310], **quarter)
    make_runs(root, "metz", "vanilla", {}, "stacked-mnist", [29, 31], **quarter)  # the paper's data
    return build_reproductions([root], root.parent / "metz-out")


def metz_rows(frame, table=None):
    chosen = frame[frame.table.str.startswith("PacGAN Table 3")]
    return chosen if table is None else chosen[chosen.table == table]


def row(frame, table, dataset, method, metric="modes_captured"):
    chosen = frame[(frame.table == table) & (frame.dataset == dataset) & (frame.method == method)
                   & (frame.metric == metric)]
    assert len(chosen) == 1
    return chosen.iloc[0]


def test_csv_has_each_published_row_once_per_dataset_we_run(report):
    written = metz_rows(pd.read_csv(report.paths["reproductions_csv"], keep_default_na=False))
    counts = written.groupby(["table", "dataset"], sort=False).size()
    # Both stand-ins always; stacked-mnist (the paper's own data) only where runs are on it.
    assert counts.to_dict() == {
        (QUARTER, "stacked-digits"): 10, (QUARTER, "stacked-fashion"): 10,
        (QUARTER, "stacked-mnist"): 10, (HALF, "stacked-digits"): 10, (HALF, "stacked-fashion"): 10,
    }
    digits = written[(written.table == QUARTER) & (written.dataset == "stacked-digits")]
    assert list(digits.method) == METHODS * 2
    assert list(digits.metric) == ["modes_captured"] * 5 + ["mode_kl"] * 5
    assert list(digits.published) == [30.6, 65.4, 236.4, 327.2, 484.5, 5.99, 5.91, 4.67, 4.66, 2.61]
    assert list(digits.published_error) == ["20.73", "34.75", "63.3", "74.67", "", "0.42", "", "", "", ""]


def test_d_width_separates_the_runs(report):
    frame = report.reproductions
    quarter = row(frame, QUARTER, "stacked-digits", "DCGAN")
    half = row(frame, HALF, "stacked-digits", "DCGAN")
    assert (quarter.trials, quarter.ours) == (3, pytest.approx(30.3333, abs=1e-4))
    assert (half.trials, half.ours) == (3, 845.0)  # the D = G run (999 modes) is in neither
    assert quarter.protocol == f"metz (20,000 of 500,000 steps; {STAND_IN})"
    unrolled = row(frame, HALF, "stacked-digits", "Unrolled GAN (5 steps)")  # quarter runs only
    assert (unrolled.trials, unrolled.note, unrolled.protocol) == (0, "no runs yet",
                                                                   f"metz ({STAND_IN})")


def test_stand_in_rows_are_judged_on_the_ordering_only(report):
    frame = report.reproductions
    dcgan = row(frame, QUARTER, "stacked-digits", "DCGAN")
    _, low, high, _ = confidence_interval([25, 30, 36])
    assert low - 20.73 <= 30.6 <= high + 20.73  # would be "reproduced" on the paper's data
    assert dcgan.verdict == "ordering reproduced"
    assert dcgan.note == (
        "ours 30.3 [16.7, 44.0] vs published 30.6 ± 20.7 on MNIST digits; "
        "below Unrolled GAN (5 steps)'s 210.0 [185.2, 234.8] as published, "
        "below PacDCGAN2's 490.0 [465.2, 514.8] as published"
    )
    kl = row(frame, QUARTER, "stacked-digits", "PacDCGAN2", "mode_kl")
    assert kl.verdict == "ordering reproduced" and "below DCGAN's 5.1 [4.85, 5.35] as published" in kl.note
    half = row(frame, HALF, "stacked-digits", "DCGAN")
    assert half.verdict == "not reproduced"
    assert "published below PacDCGAN2, ours is on the other side of PacDCGAN2's 705.0" in half.note
    stand_ins = metz_rows(frame)[metz_rows(frame).dataset != "stacked-mnist"]
    assert set(stand_ins.verdict) == {"ordering reproduced", "not reproduced"}
    own = row(frame, QUARTER, "stacked-mnist", "DCGAN")  # the paper's data: the value compares
    assert (own.verdict, own.protocol) == ("reproduced", "metz (20,000 of 500,000 steps)")


def test_report_shows_the_metz_tables_after_the_ring_and_grid_tables(report):
    html = report.paths["html"].read_text(encoding="utf-8")
    positions = [html.index(text) for text in (
        "Published numbers beside ours</h2>", "Stacked MNIST: PacGAN Table 3 beside our",
        "Under collapsekit's default protocol</h2>", "Coverage against step</h2>",
    )]
    assert positions == sorted(positions)
    markdown = report.paths["markdown"].read_text(encoding="utf-8")
    captions = [line.strip("*") for line in markdown.splitlines()
                if line.startswith("**PacGAN Table 3") and line.endswith("**")]
    assert captions == [  # by dataset in registry order, then D width
        f"{QUARTER}; ours on stacked-digits", f"{HALF}; ours on stacked-digits",
        f"{QUARTER}; ours on stacked-mnist",
        f"{QUARTER}; ours on stacked-fashion", f"{HALF}; ours on stacked-fashion",
    ]
    assert "images/coverage-metz.png" in markdown


def test_metz_coverage_has_a_row_of_panels_per_d_width(report):
    history = histories(report.runs)
    assert set(history[history.protocol == "metz"].d_width) == {"quarter", "half", "full"}
    one_width = history[history.d_width.isin(["", "quarter"])]
    three = {plot.name: png_size(plot.png) for plot in coverage_plots(history)}
    one = {plot.name: png_size(plot.png) for plot in coverage_plots(one_width)}
    assert three["coverage-metz"][0] == one["coverage-metz"][0]  # the same three datasets
    assert three["coverage-metz"][1] == pytest.approx(3 * one["coverage-metz"][1], abs=2)


def png_size(png: bytes) -> tuple[int, int]:
    """Width and height in pixels from a PNG's header."""
    return struct.unpack(">II", png[16:24])
