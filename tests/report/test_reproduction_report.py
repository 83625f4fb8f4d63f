"""The reproduction report on run folders written with chosen final metrics."""

import logging
import math
import re

import numpy as np
import pandas as pd
import pytest
from conftest import GRID, RING

from collapsekit.report import build_reproductions
from collapsekit.report.published import PACGAN_TABLE_1, PAPER_SETTINGS
from collapsekit.report.reproduction_plots import length_labels
from collapsekit.report.reproduction_runs import read_runs, steps_text
from collapsekit.report.reproductions import COLUMNS, protocol_text
from collapsekit.report.tables import confidence_interval

UNROLL = {"unroll_steps": 5}


@pytest.fixture(scope="module")
def runs_root(tmp_path_factory, make_runs, make_run):
    root = tmp_path_factory.mktemp("runs")
    pacgan = dict(steps=50_000)
    make_runs(root, "pacgan", "vanilla", {}, RING, [6, 6, 7, 6, 6], **pacgan)
    make_run(root, "pacgan", "vanilla", {}, RING, 5, 2, status="incomplete", **pacgan)
    make_runs(root, "pacgan", "pacgan", {"pack": 2}, RING, [8, 8, 8, 8, 7], **pacgan)
    make_runs(root, "pacgan", "vanilla", {}, GRID, [10, 11, 10, 11, 10], **pacgan)
    make_runs(root, "pacgan", "pacgan", {"pack": 2}, GRID, [21, 21, 22, 21, 22], **pacgan)
    veegan = dict(steps=25_000)
    make_runs(root, "veegan", "vanilla", {}, RING, [1, 1, 2, 1, 1], **veegan)
    make_runs(root, "veegan", "unrolled", UNROLL, RING, [8, 8, 8, 8, 8], **veegan)
    make_run(root, "veegan", "unrolled", {"unroll_steps": 10}, RING, 0, 0, **veegan)  # not K=5
    make_runs(root, "veegan", "vanilla", {}, GRID, [5, 10, 15, 8, 12], **veegan)
    make_runs(root, "veegan", "unrolled", UNROLL, GRID, [8, 12, 16, 10, 14], **veegan)
    default = dict(steps=25_000)  # no protocol key: runs made before protocols
    make_runs(root, None, "vanilla", {}, "ring8", [1, 1, 1, 1, 2], **default)
    make_runs(root, None, "unrolled", UNROLL, "ring8", [8, 8, 8, 8, 8], **default)
    make_runs(root, None, "vanilla", {}, "grid25", [10, 12, 14, 11, 13], **default)
    make_runs(root, None, "unrolled", UNROLL, "grid25", [9, 13, 12, 10, 11], **default)
    return root


@pytest.fixture(scope="module")
def report(runs_root, tmp_path_factory):
    notes = tmp_path_factory.mktemp("notes") / "notes.csv"
    notes.write_text(
        "table,dataset,method,metric,note\n"
        'VEEGAN Table 1,grid25,GAN,modes_captured,"grid GAN runs hop, measured"\n'
        "VEEGAN Table 1,grid25,GAN,modes_captured,second note\n"
        "PacGAN Table 1,ring8,ALI,modes_captured,matches nothing\n",
        encoding="utf-8",
    )
    return build_reproductions([runs_root], runs_root.parent / "out", notes)


def row(frame, table, dataset, method, metric):
    chosen = frame[
        (frame.table == table)
        & (frame.dataset == dataset)
        & (frame.method == method)
        & (frame.metric == metric)
    ]
    assert len(chosen) == 1
    return chosen.iloc[0]


def test_csv_has_the_columns_and_one_row_per_published_number(report):
    written = pd.read_csv(report.paths["reproductions_csv"])
    assert list(written.columns) == COLUMNS
    # PacGAN Table 1: 4 methods x 2 datasets x 3 metrics; VEEGAN Table 1: 2 x 2 x 2; PacGAN
    # Table 3: 5 methods x 2 D widths x 2 stand-in datasets (stacked-digits, stacked-fashion)
    # x 2 metrics, without runs here.
    assert len(written) == 24 + 8 + 40
    assert set(written.verdict) <= {"reproduced", "ordering reproduced", "not reproduced"}
    first = written.iloc[0]
    assert list(first[["table", "dataset", "method", "metric"]]) == [
        "PacGAN Table 1", "ring8", "GAN", "modes_captured",
    ]
    assert (first.published, first.published_error, first.trials) == (6.3, 0.5, 5)


def test_ours_is_the_mean_and_t_interval_of_finished_runs(report):
    gan = row(report.reproductions, "PacGAN Table 1", "ring8", "GAN", "modes_captured")
    mean, low, high, n = confidence_interval([6, 6, 7, 6, 6])
    assert (gan.ours, gan.trials, gan.steps) == (pytest.approx(mean), 5, "50000")
    assert gan.ours_ci95 == f"[{low:.1f}, {high:.1f}]"
    assert gan.verdict == "reproduced"  # 6.3 in [5.64 - 0.5, 6.76 + 0.5]
    assert gan.protocol == "pacgan (50,000 of 400,000 steps; 5 of 10 trials)"
    assert gan.note == "not counted: 1 incomplete"
    unrolled = row(report.reproductions, "VEEGAN Table 1", "ring8", "Unrolled GAN", "modes_captured")
    assert unrolled.trials == 5  # the unroll_steps=10 run is another method
    assert unrolled.protocol == "veegan (steps and trials as the paper)"


def test_verdicts_follow_the_rules(report):
    frame = report.reproductions
    pacgan2 = row(frame, "PacGAN Table 1", "grid25", "PacGAN2", "modes_captured")
    assert pacgan2.verdict == "ordering reproduced"  # 23.8 outside [20.0, 22.8]; above GAN
    assert "above GAN's 10.4 [9.7, 11.1] as published" in pacgan2.note
    gan = row(frame, "PacGAN Table 1", "grid25", "GAN", "modes_captured")
    assert gan.verdict == "ordering reproduced"
    assert "below PacGAN2's 21.4 [20.7, 22.1] as published" in gan.note
    veegan_unrolled = row(frame, "VEEGAN Table 1", "ring8", "Unrolled GAN", "modes_captured")
    assert veegan_unrolled.verdict == "ordering reproduced"  # 7.6 outside [8, 8]; above GAN
    grid_gan = row(frame, "VEEGAN Table 1", "grid25", "GAN", "modes_captured")
    assert grid_gan.verdict == "not reproduced"
    assert grid_gan.note.startswith(
        "ours 10.0 [5.3, 14.7] vs published 3.3 (outside the widened interval); "
        "published below Unrolled GAN, ours overlaps Unrolled GAN's 12.0 [8.1, 15.9]"
    )
    quality = row(frame, "PacGAN Table 1", "ring8", "GAN", "high_quality_frac")
    assert quality.verdict == "not reproduced" and quality.ours_ci95 == "[0.900, 0.900]"
    assert "ours overlaps PacGAN2's 90.0% [90.0, 90.0]" in quality.note


def test_methods_without_runs_keep_their_row(report):
    for dataset in ("ring8", "grid25"):
        for method in ("PacGAN3", "PacGAN4"):
            missing = row(report.reproductions, "PacGAN Table 1", dataset, method, "modes_captured")
            assert (missing.verdict, missing.note, missing.trials) == ("not reproduced", "no runs yet", 0)
            assert math.isnan(missing.ours) and missing.ours_ci95 == ""


def test_reverse_kl_is_computed_from_the_mode_counts(report):
    kl = row(report.reproductions, "PacGAN Table 1", "ring8", "GAN", "pacgan_reverse_kl")
    expected = np.mean([math.log(8 / m) for m in [6, 6, 7, 6, 6]])  # 10 samples in each of m modes
    assert kl.ours == pytest.approx(expected, abs=1e-4)
    html = report.paths["html"].read_text(encoding="utf-8")
    assert "their reverse KL reads as KL(high-quality mode histogram || uniform)" in html


def test_notes_file_is_joined_and_unmatched_notes_reported(report):
    grid_gan = row(report.reproductions, "VEEGAN Table 1", "grid25", "GAN", "modes_captured")
    assert grid_gan.note.endswith("; grid GAN runs hop, measured; second note")
    assert report.unmatched_notes == [("PacGAN Table 1", "ring8", "ALI", "modes_captured", "")]


def test_default_protocol_table_checks_the_published_orderings(report):
    written = pd.read_csv(report.paths["default_protocol_csv"], keep_default_na=False)
    assert len(written) == 2 * 4 * 3  # datasets x methods x metrics
    assert set(written.protocol) == {"default (collapsekit's own settings, not the papers')"}
    ring = row(written, "collapsekit default protocol", "ring8", "unrolled", "modes_captured")
    assert ring.published_ordering == "unrolled > vanilla (VEEGAN Table 1: Unrolled GAN 7.6 > GAN 1)"
    assert (ring.holds, ring.note) == ("yes", "ours 8.0 [8.0, 8.0] above vanilla's 1.2 [0.6, 1.8]")
    grid = row(written, "collapsekit default protocol", "grid25", "unrolled", "modes_captured")
    assert grid.holds == "no" and grid.note.startswith("ours 11.0 [9.0, 13.0] overlaps vanilla's")
    pacgan = row(written, "collapsekit default protocol", "ring8", "pacgan (pack=2)", "modes_captured")
    assert (pacgan.holds, pacgan.note, pacgan.trials) == ("no runs yet", "no runs yet", 0)


def test_report_puts_the_reproduction_table_first_and_embeds_its_plots(report):
    html = report.paths["html"].read_text(encoding="utf-8")
    first, second, curves = (
        html.index("Published numbers beside ours</h2>"),
        html.index("Under collapsekit's default protocol</h2>"),
        html.index("Coverage against step</h2>"),
    )
    assert first < second < curves
    images = re.findall(r'<img src="data:image/png;base64,', html)
    assert len(images) == 3  # one per protocol: default, pacgan, veegan
    assert "src=\"http" not in html and "<script" not in html
    markdown = report.paths["markdown"].read_text(encoding="utf-8")
    linked = re.findall(r"\]\((images/[^)]+\.png)\)", markdown)
    assert linked == ["images/coverage-default.png", "images/coverage-pacgan.png",
                      "images/coverage-veegan.png"]
    assert all((report.paths["markdown"].parent / path).is_file() for path in linked)
    assert markdown.index("**PacGAN Table 1, ring8**") < markdown.index("## Under collapsekit")


def test_steps_and_protocol_text_say_what_differs_from_the_paper():
    runs = pd.DataFrame({"step": [25_000, 50_000, 50_000]})
    setting = PAPER_SETTINGS[PACGAN_TABLE_1]
    assert steps_text(runs) == "25000-50000" and steps_text(runs.iloc[1:]) == "50000"
    assert protocol_text("pacgan", runs, setting) == (
        "pacgan (25,000 to 50,000 of 400,000 steps; 3 of 10 trials)"
    )
    full = pd.DataFrame({"step": [400_000] * 10})
    assert protocol_text("pacgan", full, setting) == "pacgan (steps and trials as the paper)"


def test_runs_of_different_lengths_are_separate_lines_labelled_by_steps():
    history = pd.DataFrame(
        {
            "protocol": ["pacgan"] * 3 + ["veegan"],
            "data_spec": [RING] * 4,
            "label": ["pacgan (pack=2)", "pacgan (pack=2)", "vanilla", "vanilla"],
            "planned_steps": [50_000, 400_000, 50_000, 25_000],
        }
    )
    # Under pacgan one method has two lengths: every pacgan line says its length.
    assert length_labels(history) == ["50,000 steps", "400,000 steps", "50,000 steps", ""]


def test_each_run_is_read_once_and_a_corrupt_folder_is_skipped(runs_root, caplog):
    broken = runs_root / "zz-broken"
    broken.mkdir()
    (broken / "config.json").write_text('{"model": ', encoding="utf-8")
    try:
        with caplog.at_level(logging.WARNING):
            runs = read_runs([runs_root, runs_root / "veegan-vanilla--ring8-0"])
        assert "zz-broken" in caplog.text
        assert len(runs) == 62  # 21 pacgan, 21 veegan, 20 default; the second root adds none
        assert (runs.protocol == "default").sum() == 20
    finally:
        (broken / "config.json").unlink()
        broken.rmdir()


def test_orderings_say_whether_each_published_ranking_holds(report):
    written = pd.read_csv(report.paths["orderings_csv"], keep_default_na=False)
    assert list(written.columns) == ["table", "dataset", "steps", "published_ordering", "holds", "ours"]
    rows = {(r.table, r.dataset, r.published_ordering): (r.holds, r.ours) for r in written.itertuples()}
    assert rows[("PacGAN Table 1", "grid25", "PacGAN2 23.8 ± 0.7 > GAN 17.3 ± 0.8")] == (
        "yes", "PacGAN2 21.4 [20.7, 22.1] (5 runs) above GAN 10.4 [9.7, 11.1] (5 runs)"
    )
    assert rows[("VEEGAN Table 1", "grid25", "Unrolled GAN 23.6 > GAN 3.3")] == (
        "no", "Unrolled GAN 12.0 [8.1, 15.9] (5 runs) overlaps GAN 10.0 [5.3, 14.7] (5 runs)"
    )
    assert rows[("PacGAN Table 1", "ring8", "PacGAN3 7.8 ± 0.1 > GAN 6.3 ± 0.5")] == (
        "no runs yet", "no finished runs of PacGAN3"
    )
    # PacGAN Table 1 ranks PacGAN2, 3 and 4 apart from GAN on both datasets; VEEGAN Table 1
    # unrolled apart from GAN on both; methods are never compared with one another.
    assert sum(table.startswith("PacGAN Table 1") for table, _, _ in rows) == 6
    assert sum(table.startswith("VEEGAN Table 1") for table, _, _ in rows) == 2
    markdown = report.paths["markdown"].read_text(encoding="utf-8")
    assert "Published orderings in modes captured: 3 of " in markdown
    assert markdown.index("## Do the published orderings hold?") < markdown.index("## Published numbers")


def test_runs_of_different_lengths_get_their_own_rows_and_orderings(tmp_path, make_runs, make_run):
    """A full-length run is never pooled with shortened ones: each length is judged apart."""
    short, full = tmp_path / "runs" / "short", tmp_path / "runs" / "full"
    make_runs(short, "pacgan", "vanilla", {}, RING, [8, 8, 8, 8, 8], steps=50_000)
    make_runs(short, "pacgan", "pacgan", {"pack": 2}, RING, [8, 8, 8, 8, 8], steps=50_000)
    make_runs(full, "pacgan", "vanilla", {}, RING, [6, 6, 7], steps=400_000)
    make_runs(full, "pacgan", "pacgan", {"pack": 2}, RING, [8, 8, 8], steps=400_000)
    make_run(full, "pacgan", "vanilla", {}, RING, 3, 5, steps=400_000, status="incomplete")
    notes = tmp_path / "notes.csv"
    notes.write_text(
        "table,dataset,method,metric,steps,note\n"
        "PacGAN Table 1,ring8,GAN,modes_captured,50000,short runs hold 8\n"
        "PacGAN Table 1,ring8,GAN,modes_captured,,every length\n"
        "PacGAN Table 1,ring8,GAN,modes_captured,\"100,000\",no such length\n",
        encoding="utf-8",
    )
    result = build_reproductions([tmp_path / "runs"], tmp_path / "out", notes)
    assert result.unmatched_notes == [
        ("PacGAN Table 1", "ring8", "GAN", "modes_captured", "100000")
    ]
    written = pd.read_csv(result.paths["reproductions_csv"], dtype={"steps": str})
    gan = written[(written.table == "PacGAN Table 1") & (written.dataset == "ring8")
                  & (written.method == "GAN") & (written.metric == "modes_captured")]  # fmt: skip
    assert gan.steps.tolist() == ["50000", "400000"]  # shortest first
    assert gan.trials.tolist() == [5, 3]
    assert gan.ours.tolist() == pytest.approx([8.0, 19 / 3], abs=1e-4)
    assert "not counted: 1 incomplete" not in gan.note.iloc[0]
    assert "not counted: 1 incomplete" in gan.note.iloc[1]
    assert gan.note.iloc[0].endswith("; short runs hold 8; every length")
    assert gan.note.iloc[1].endswith("; every length") and "hold 8" not in gan.note.iloc[1]
    pac3 = written[(written.dataset == "ring8") & (written.method == "PacGAN3")
                   & (written.metric == "modes_captured")]  # fmt: skip
    assert pac3.steps.tolist() == ["50000", "400000"]  # no runs: the length the row is for
    assert pac3.trials.tolist() == [0, 0]
    assert gan.protocol.tolist() == [
        "pacgan (50,000 of 400,000 steps; 5 of 10 trials)",
        "pacgan (3 of 10 trials)",
    ]
    orderings = pd.read_csv(result.paths["orderings_csv"], keep_default_na=False, dtype=str)
    pac2 = orderings[
        (orderings.dataset == "ring8") & orderings.published_ordering.str.startswith("PacGAN2")
    ]
    assert pac2.steps.tolist() == ["50000", "400000"]
    assert pac2.holds.tolist() == ["no", "yes"]
    assert pac2.ours.iloc[1] == "PacGAN2 8.0 [8.0, 8.0] (3 runs) above GAN 6.3 [4.9, 7.8] (3 runs)"
