"""diagnose(): each finding on constructed histories that should, should not and barely trigger it."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest

from collapsekit.diagnose import ERROR, INFO, WARNING, Finding, Thresholds, diagnose
from collapsekit.errors import CollapsekitError
from collapsekit.runs import RunDir


def history(covered, d_real=0.5, d_fake=0.5, total=8, every=100, counts=None, samples=2500):
    """Rows every ``every`` steps; scalars are repeated to the length of ``covered``."""
    covered = list(covered)
    n = len(covered)
    d_real = [d_real] * n if np.isscalar(d_real) else list(d_real)
    d_fake = [d_fake] * n if np.isscalar(d_fake) else list(d_fake)
    rows = []
    for index in range(n):
        row = {"step": index * every, "modes_covered": covered[index], "modes_total": total,
               "modes_captured": covered[index], "high_quality_frac": 0.9, "num_samples": samples,
               "d_real": d_real[index], "d_fake": d_fake[index]}  # fmt: skip
        if counts is not None:
            row["mode_counts"] = counts[index]
        rows.append(row)
    return rows


def names(findings):
    return [finding.name for finding in findings]


def single_mode_counts(modes, total=8, samples=2500):
    """Per evaluation, all samples in one mode (or none for None)."""
    counts = []
    for mode in modes:
        row = [0] * total
        if mode is not None:
            row[mode] = samples
        counts.append(row)
    return counts


# -- collapse -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("final", "expected"),
    [
        (0, "collapsed"),
        (1, "collapsed"),
        (2, "collapsed"),
        (3, "partial_collapse"),
        (7, "partial_collapse"),
    ],
)
def test_collapse_names_k_of_K_with_the_2_of_8_border(final, expected):
    found = diagnose(history([8, 8, 8, 6, final, final]))
    (collapse,) = [f for f in found if f.name in ("collapsed", "partial_collapse")]
    assert collapse.name == expected
    assert collapse.severity == (ERROR if expected == "collapsed" else WARNING)
    assert collapse.evidence["modes_covered"] == final
    assert collapse.evidence["modes_total"] == 8
    assert collapse.evidence["peak_score"] == 1.0 and collapse.evidence["peak_step"] == 0
    assert f"covers {final} of 8 modes" in collapse.message
    assert collapse.end_step == 500


def test_collapse_start_is_where_the_final_stretch_began():
    found = diagnose(history([8, 8, 5, 1, 1, 2]))
    collapse = next(f for f in found if f.name == "collapsed")
    assert (collapse.start_step, collapse.end_step) == (
        300,
        500,
    )  # 5 of 8 was partial, not collapsed
    assert "down from 8 of 8 modes at step 0" in collapse.message
    partial = diagnose(history([8, 8, 5, 6, 7]))
    assert [(f.name, f.start_step) for f in partial if "collapse" in f.name] == [
        ("partial_collapse", 200)
    ]


def test_full_coverage_at_the_end_is_no_collapse_even_after_a_dip():
    assert not [f for f in diagnose(history([8, 1, 1, 1, 8])) if "collapse" in f.name]


@pytest.mark.parametrize(
    ("column", "value", "expected"),
    [
        ("coverage", 0.25, "collapsed"),
        ("coverage", 0.26, "partial_collapse"),
        ("coverage", 0.79, "partial_collapse"),
        ("coverage", 0.80, None),
        ("recall", 0.1, "collapsed"),
        ("recall", 0.59, "partial_collapse"),
        ("recall", 0.6, None),
        ("ndb_frac", 0.5, "collapsed"),
        ("ndb_frac", 0.3, "partial_collapse"),
        ("ndb_frac", 0.2, None),
    ],
)
def test_collapse_without_known_modes_uses_coverage_recall_or_ndb(column, value, expected):
    rows = [{"step": s, column: value, "d_real": 0.7, "d_fake": 0.3} for s in range(0, 1000, 100)]
    found = [f.name for f in diagnose(rows) if "collapse" in f.name]
    assert found == ([expected] if expected else [])
    if expected:
        collapse = next(f for f in diagnose(rows) if "collapse" in f.name)
        assert collapse.evidence[column] == pytest.approx(value)


def test_coverage_wins_over_recall_when_both_are_present():
    rows = [{"step": s, "coverage": 0.95, "recall": 0.1} for s in range(0, 500, 100)]
    assert "collapsed" not in names(diagnose(rows))


# -- mode hopping ---------------------------------------------------------------------------


def test_mode_hopping_on_a_single_mode_moving_around():
    modes = [None, None, 0, 3, 5, 1, 6, 2, 4, 7]  # untrained first, then one mode at a time
    rows = history([0, 0] + [1] * 8, counts=single_mode_counts(modes))
    found = {f.name: f for f in diagnose(rows)}
    hopping = found["mode_hopping"]
    assert hopping.evidence["hops"] == 7 and hopping.evidence["pairs"] == 7
    assert hopping.evidence["modes_visited"] == 8
    assert (hopping.start_step, hopping.end_step) == (200, 900)
    assert "collapsed" in found


def test_no_mode_hopping_when_the_mode_stays_or_coverage_is_full():
    stays = history([1] * 10, counts=single_mode_counts([3] * 10))
    assert "mode_hopping" not in names(diagnose(stays))
    uniform = [[312] * 8] * 10
    assert "mode_hopping" not in names(diagnose(history([8] * 10, counts=uniform)))


def test_mode_hopping_border_at_three_hops():
    three = single_mode_counts([None, 0, 0, 0, 1, 1, 2, 2, 3, 3])  # 3 hops of 8 pairs (rate 0.375)
    assert "mode_hopping" not in names(diagnose(history([1] * 10, counts=three)))  # rate below 0.5
    assert "mode_hopping" in names(
        diagnose(history([1] * 10, counts=three), hopping_min_rate=0.375)
    )
    two = single_mode_counts([None, 0, 0, 0, 0, 1, 1, 1, 2, 2])
    assert "mode_hopping" not in names(
        diagnose(history([1] * 10, counts=two), hopping_min_rate=0.0)
    )


def test_a_mode_below_the_present_share_does_not_count():
    # 31 of 2500 samples is below 0.1 * 2500 / 8 = 31.25: absent; 32 is present
    counts = [[2400, 31, 0, 0, 0, 0, 0, 0], [2400, 0, 0, 0, 0, 0, 0, 0]] * 5
    assert "mode_hopping" not in names(diagnose(history([1] * 10, counts=counts)))
    counts = [[0, 32, 0, 0, 0, 0, 0, 0], [2400, 0, 0, 0, 0, 0, 0, 0]] * 5
    assert "mode_hopping" in names(diagnose(history([1] * 10, counts=counts)))


# -- oscillation ----------------------------------------------------------------------------


def test_oscillating_coverage_gives_its_period():
    index = np.arange(64)
    covered = np.round(4 + 3 * np.sin(2 * np.pi * index / 8)).astype(int)  # period of 8 evaluations
    rows = history(covered, d_real=0.6, d_fake=0.4, every=50)
    oscillation = next(f for f in diagnose(rows) if f.name == "oscillation")
    assert oscillation.evidence["period_steps"] == 400
    assert oscillation.evidence["autocorrelation"] > 0.7
    assert "coverage swings with a period of about 400 steps" in oscillation.message


def test_oscillating_discriminator_outputs_from_the_equilibrium_frame():
    steps = np.arange(5000)
    frame = pd.DataFrame({"step": steps, "d_real": 0.7 + 0.15 * np.sin(2 * np.pi * steps / 500),
                          "d_fake": np.full(5000, 0.3)})  # fmt: skip
    rows = history([8] * 11, d_real=0.7, d_fake=0.3, every=500)
    oscillation = next(f for f in diagnose(rows, frame) if f.name == "oscillation")
    assert oscillation.message.startswith("D(x) swings")
    assert oscillation.evidence["period_steps"] == pytest.approx(500, rel=0.05)
    assert oscillation.evidence["amplitude"] == pytest.approx(0.15, rel=0.05)


def test_no_oscillation_for_trends_noise_or_small_swings():
    rng = np.random.default_rng(0)
    trend = np.linspace(0.2, 0.9, 60)
    noise = 0.5 + 0.1 * rng.standard_normal(60)
    small = 0.5 + 0.04 * np.sin(2 * np.pi * np.arange(60) / 8)  # amplitude 0.04 < 0.05
    for series in (trend, noise, small):
        rows = history([8] * 60, d_real=series, d_fake=0.4)
        assert "oscillation" not in names(diagnose(rows))
    borderline = 0.5 + 0.06 * np.sin(2 * np.pi * np.arange(60) / 8)
    assert "oscillation" in names(diagnose(history([8] * 60, d_real=borderline, d_fake=0.4)))


# -- discriminator --------------------------------------------------------------------------


def test_discriminator_dominance_needs_three_evaluations_past_warmup():
    d_real = [0.6] * 5 + [0.97, 0.96, 0.98] + [0.6] * 2
    d_fake = [0.4] * 5 + [0.03, 0.04, 0.02] + [0.4] * 2
    dominance = next(
        f
        for f in diagnose(history([8] * 10, d_real, d_fake))
        if f.name == "discriminator_dominance"
    )
    assert (dominance.start_step, dominance.end_step) == (500, 700)
    assert dominance.evidence["d_real"] == pytest.approx(0.97)
    assert dominance.evidence["d_fake"] == pytest.approx(0.03)
    assert dominance.evidence["evaluations"] == 3
    two = history(
        [8] * 10, [0.6] * 6 + [0.97, 0.96] + [0.6] * 2, [0.4] * 6 + [0.03, 0.04] + [0.4] * 2
    )
    assert "discriminator_dominance" not in names(diagnose(two))


def test_dominance_border_values_and_warmup():
    at_border = history([8] * 10, d_real=0.8, d_fake=0.2)
    assert "discriminator_dominance" in names(diagnose(at_border))
    assert "discriminator_dominance" not in names(
        diagnose(history([8] * 10, d_real=0.79, d_fake=0.2))
    )
    assert "discriminator_dominance" not in names(
        diagnose(history([8] * 10, d_real=0.8, d_fake=0.21))
    )
    # dominance only in the first 10% of the run (steps 0..2000 of 0..19900) is the start, not a finding
    early = history([8] * 200, [0.95] * 20 + [0.6] * 180, [0.05] * 20 + [0.4] * 180)
    assert "discriminator_dominance" not in names(diagnose(early))


def test_near_equilibrium_is_health_with_full_coverage_only():
    found = diagnose(history([4, 8, 8, 8], d_real=0.55, d_fake=0.45))
    assert names(found) == ["near_equilibrium"]
    (healthy,) = found
    assert healthy.severity == INFO and healthy.start_step == 100
    assert names(diagnose(history([8] * 4, d_real=0.6, d_fake=0.4))) == [
        "near_equilibrium"
    ]  # border
    assert names(diagnose(history([8] * 4, d_real=0.61, d_fake=0.4))) == []
    assert "near_equilibrium" not in names(diagnose(history([7] * 4, d_real=0.5, d_fake=0.5)))


def test_blind_discriminator_low_coverage_with_outputs_near_half():
    found = {f.name: f for f in diagnose(history([1] * 10, d_real=0.52, d_fake=0.48))}
    blind = found["blind_discriminator"]
    assert (blind.start_step, blind.end_step) == (100, 900)  # warm-up skips step 0
    assert blind.evidence["evaluations"] == 9
    assert "at most 1 of 8 modes" in blind.message
    assert "blind_discriminator" not in names(diagnose(history([1] * 10, d_real=0.95, d_fake=0.05)))
    assert "blind_discriminator" not in names(
        diagnose(history([5] * 10, d_real=0.5, d_fake=0.5))
    )  # 5/8 > 1/2
    assert "blind_discriminator" in names(
        diagnose(history([4] * 10, d_real=0.5, d_fake=0.5))
    )  # 4/8: border
    short = history([8] * 7 + [1] * 3, d_real=0.5, d_fake=0.5)
    assert "blind_discriminator" in names(diagnose(short))
    assert "blind_discriminator" not in names(
        diagnose(history([8] * 8 + [1] * 2, d_real=0.5, d_fake=0.5))
    )


# -- divergence -----------------------------------------------------------------------------


def test_nan_discriminator_outputs_are_divergence_and_later_rows_are_ignored():
    frame = pd.DataFrame({"step": np.arange(1000), "d_real": 0.5, "d_fake": 0.5})
    frame.loc[frame.step >= 734, "d_real"] = math.nan
    rows = history(
        [8] * 8 + [1, 1], d_real=0.5, d_fake=0.5
    )  # steps 0..900; the collapse is after NaN
    found = diagnose(rows, frame)
    assert found[0].name == "diverged" and found[0].severity == ERROR
    assert (found[0].start_step, found[0].end_step) == (734, 999)
    assert "discriminator outputs became NaN or inf at step 734" in found[0].message
    assert found[0].evidence["nonfinite_outputs"] == 266
    assert "collapsed" not in names(found)  # measured after divergence: meaningless


def test_divergence_from_samples_inf_or_a_known_step():
    rows = history([8] * 5)
    rows[3]["nonfinite_frac"] = 0.25
    (diverged,) = [f for f in diagnose(rows) if f.name == "diverged"]
    assert diverged.start_step == 300 and diverged.evidence["nonfinite_sample_frac"] == 0.25
    frame = pd.DataFrame({"step": [0, 1, 2], "d_real": [0.5, math.inf, 0.5], "d_fake": [0.5] * 3})
    assert diagnose(None, frame)[0].start_step == 1
    assert diagnose(history([8] * 5), diverged_at=250)[0].message.startswith(
        "training losses became"
    )
    assert "diverged" not in names(diagnose(history([8] * 5)))


# -- API ------------------------------------------------------------------------------------


def test_findings_are_sorted_by_severity_and_serialise_to_json():
    rows = history([1] * 10, d_real=0.52, d_fake=0.48, counts=single_mode_counts([0, 1] * 5))
    found = diagnose(rows)
    ranks = [{ERROR: 0, WARNING: 1, INFO: 2}[f.severity] for f in found]
    assert ranks == sorted(ranks) and names(found)[0] == "collapsed"
    record = json.loads(json.dumps([f.to_dict() for f in found]))
    assert set(record[0]) == {"name", "severity", "start_step", "end_step", "message", "evidence"}
    assert all(isinstance(v, (int, float)) for f in found for v in f.evidence.values())
    assert str(found[0]).startswith("collapsed (error): covers 1 of 8 modes")


def test_thresholds_by_name_and_bad_thresholds():
    rows = history([8] * 10, d_real=0.85, d_fake=0.15)
    assert "discriminator_dominance" in names(diagnose(rows))
    assert "discriminator_dominance" not in names(diagnose(rows, dominance_real=0.9))
    assert "discriminator_dominance" not in names(
        diagnose(rows, thresholds=Thresholds(dominance_fake=0.1))
    )
    with pytest.raises(CollapsekitError, match="unknown threshold.*dominance_reel"):
        diagnose(rows, dominance_reel=0.9)
    with pytest.raises(CollapsekitError, match="dominance_real must lie in \\[0, 1\\], got 1.5"):
        Thresholds(dominance_real=1.5)
    with pytest.raises(CollapsekitError, match="sustained_evaluations must be a positive integer"):
        Thresholds(sustained_evaluations=0)
    with pytest.raises(
        CollapsekitError, match="collapsed_mode_share=0.9 must not exceed full_mode_share"
    ):
        Thresholds(collapsed_mode_share=0.9, full_mode_share=0.5)


def test_bad_history_input():
    assert diagnose(None) == [] and diagnose([]) == []
    with pytest.raises(CollapsekitError, match="history has no 'step' column"):
        diagnose([{"modes_covered": 1}])
    with pytest.raises(CollapsekitError, match="history must be a DataFrame or a list of dicts"):
        diagnose(5)
    with pytest.raises(CollapsekitError, match="equilibrium must be a DataFrame with columns"):
        diagnose([], pd.DataFrame({"step": [1]}))


def test_history_read_back_from_a_run_folder(tmp_path):
    rows = history(
        [0, 0, 1, 1, 1, 1],
        d_real=0.5,
        d_fake=0.5,
        counts=single_mode_counts([None, None, 0, 4, 2, 6]),
    )
    run = RunDir.create(tmp_path / "run", {"data": "ring8"})
    run.write_history(rows)
    assert [f.to_dict() for f in diagnose(run.read_history())] == [
        f.to_dict() for f in diagnose(rows)
    ]
    assert set(names(diagnose(rows))) == {"collapsed", "mode_hopping", "blind_discriminator"}


def test_finding_is_a_frozen_dataclass():
    finding = Finding("collapsed", ERROR, 1, 2, "m", {"score": 0.1})
    with pytest.raises(AttributeError):
        finding.name = "other"


def test_public_names_and_the_cli_line():
    import collapsekit
    from collapsekit.cli.run import _finding_line

    (finding,) = collapsekit.diagnose(history([8, 8, 8], d_real=0.5, d_fake=0.5))
    assert (
        isinstance(finding, collapsekit.Finding) and collapsekit.Thresholds().dominance_real == 0.8
    )
    assert _finding_line(finding.to_dict()) == (
        "near_equilibrium [info, steps 0-200]: D(x)=0.50 and D(G(z))=0.50 near 1/2 with 8 of 8 modes "
        "covered since step 0: healthy"
    )
    assert _finding_line({"name": "diverged", "severity": "error", "start_step": 7, "end_step": 7,
                          "message": "m"}) == "diverged [error, step 7]: m"  # fmt: skip
