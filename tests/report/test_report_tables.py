"""Report tables on run folders written with known numbers."""

import logging
import math

import numpy as np
import pytest
from scipy import stats

from collapsekit.report.display import format_estimate, format_value
from collapsekit.report.loading import load_records
from collapsekit.report.published import PACGAN_TABLE_1, VEEGAN_TABLE_1, published_for
from collapsekit.report.tables import comparison_table, confidence_interval, summary_table
from collapsekit.runs import RunDir

COLLAPSED = {
    "name": "collapsed",
    "severity": "error",
    "start_step": 20,
    "end_step": 40,
    "message": "covers 2 of 8 modes",
    "evidence": {"modes_covered": 2},
}


def finished_run(root, name, model, seed, modes, high_quality, kl, findings=()):
    run = RunDir.create(root / name, {"model": model, "data": "ring8", "seed": seed, "steps": 40})
    metrics = {
        "modes_captured": modes,
        "modes_total": 8,
        "high_quality_frac": high_quality,
        "mode_kl": kl,  # None: NaN in JSON (no high-quality sample)
        "mode_counts": [10] * modes + [0] * (8 - modes),
        "num_samples": 100,
        "d_real": 0.5 + seed / 10,
    }
    run.write_history([{"step": 0, "modes_captured": 0}, {"step": 40, **metrics}])
    run.write_summary(
        {"status": "finished", "step": 40, "metrics": metrics, "findings": list(findings)}
    )
    return run


@pytest.fixture
def known_runs(tmp_path):
    finished_run(tmp_path, "v0", "vanilla", 0, 2, 0.5, 0.1, findings=[COLLAPSED])
    finished_run(tmp_path, "v1", "vanilla", 1, 4, 0.6, None)
    finished_run(tmp_path, "v2", "vanilla", 2, 6, 0.7, 0.3)
    finished_run(tmp_path, "u0", "unrolled", 0, 8, 0.9, 0.01)
    killed = RunDir.create(tmp_path / "killed", {"model": "unrolled", "data": "ring8", "seed": 1})
    killed.write_history(
        [
            {"step": 0, "modes_captured": 1},
            {"step": 20, "modes_captured": 5, "high_quality_frac": 0.25},
        ]
    )
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "config.json").write_text('{"model": ')
    return tmp_path


def test_confidence_interval_matches_scipy_t_interval():
    values = [2.0, 4.0, 6.0, 3.5]
    mean, low, high, n = confidence_interval(values)
    expected = stats.t.interval(0.95, len(values) - 1, loc=np.mean(values), scale=stats.sem(values))
    assert n == 4 and mean == pytest.approx(3.875)
    assert (low, high) == pytest.approx(expected)
    assert confidence_interval([2.0, 4.0, 6.0])[2] == pytest.approx(4 + 4.9682754235)
    one = confidence_interval([7.0, None, math.nan])
    assert one[0] == 7.0 and math.isnan(one[1]) and one[3] == 1


def test_comparison_table_holds_means_intervals_and_diagnosis(known_runs, caplog):
    with caplog.at_level(logging.WARNING):
        records, skipped = load_records([known_runs])
    assert len(records) == 5 and [p.endswith("broken") for p, _ in skipped] == [True]
    assert "broken" in caplog.text
    table = comparison_table(records).set_index("model")
    vanilla = table.loc["vanilla"]
    assert (
        vanilla["runs"] == 3 and vanilla["seeds"] == "0 1 2" and vanilla["status"] == "3 finished"
    )
    assert vanilla["modes_captured_mean"] == 4.0
    assert vanilla["modes_captured_ci_low"] == pytest.approx(4 - 4.9682754235)
    assert vanilla["high_quality_frac_mean"] == pytest.approx(0.6)
    assert vanilla["mode_kl_mean"] == pytest.approx(0.2) and vanilla["mode_kl_n"] == 2
    assert vanilla["diagnosis"] == "collapsed 1/3"
    unrolled = table.loc["unrolled"]
    assert unrolled["runs"] == 2 and unrolled["status"] == "1 finished, 1 incomplete"
    assert unrolled["modes_captured_mean"] == pytest.approx(
        6.5
    )  # 8 finished, 5 from the killed run


def test_summary_table_marks_incomplete_runs_with_their_last_evaluation(known_runs):
    records, _ = load_records([known_runs])
    table = summary_table(records).set_index("run_id")
    assert list(table.index) == ["u0", "killed", "v0", "v1", "v2"]  # by data, model, seed
    assert table.loc["killed", "status"] == "incomplete" and table.loc["killed", "step"] == 20
    assert (
        table.loc["killed", "modes_captured"] == 5
        and table.loc["killed", "high_quality_frac"] == 0.25
    )
    assert table.loc["v0", "findings"] == "collapsed" and table.loc["v1", "findings"] == ""
    assert math.isnan(table.loc["v1", "mode_kl"]) and table.loc["v2", "d_real"] == pytest.approx(
        0.7
    )


def test_published_numbers_carry_source_and_protocol():
    ring = {(r.source, r.method, r.metric): r for r in published_for("ring8:radius=2")}
    assert ring[(VEEGAN_TABLE_1, "GAN", "modes_captured")].value == 1
    assert ring[(VEEGAN_TABLE_1, "GAN", "high_quality_frac")].value == pytest.approx(0.993)
    assert ring[(VEEGAN_TABLE_1, "Unrolled GAN", "modes_captured")].value == 7.6
    pacgan = ring[(PACGAN_TABLE_1, "GAN", "modes_captured")]
    assert (pacgan.value, pacgan.error) == (6.3, 0.5) and "radius 1, std 0.01" in pacgan.protocol
    grid = {(r.source, r.method, r.metric): r.value for r in published_for("grid25")}
    assert grid[(VEEGAN_TABLE_1, "Unrolled GAN", "high_quality_frac")] == pytest.approx(0.16)
    assert grid[(VEEGAN_TABLE_1, "GAN", "modes_captured")] == 3.3
    assert published_for("my-own-data") == []


def test_number_formats():
    assert format_value("high_quality_frac", 0.356) == "35.6"
    assert format_value("modes_captured", 6.0, exact=True) == "6"
    assert format_value("mode_kl", float("nan")) == "n/a"
    assert format_estimate("modes_captured", 4.0, -0.97, 8.97, n=3, runs=3) == "4.0 ± 5.0"
    assert format_estimate("mode_kl", 0.2, 0.1, 0.3, n=2, runs=3) == "0.2 ± 0.1 (2 of 3)"
    assert format_estimate("high_quality_frac", 0.6, math.nan, math.nan, n=1, runs=1) == "60.0"
