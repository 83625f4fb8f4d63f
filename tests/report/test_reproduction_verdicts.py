"""Verdict rules of the reproduction report on constructed numbers."""

import math

import numpy as np
import pytest
import torch
from scipy import stats

from collapsekit.metrics import mode_kl
from collapsekit.report.reproduction_runs import pacgan_reverse_kl
from collapsekit.report.verdicts import (
    NOT_REPRODUCED,
    ORDERING_REPRODUCED,
    REPRODUCED,
    Estimate,
    Rival,
    our_order,
    published_inside,
    published_order,
    verdict,
)

MODES = "modes_captured"


def test_estimate_is_the_t_interval_over_seeds():
    values = [6, 6, 7, 6, 6]
    estimate = Estimate.of(values)
    low, high = stats.t.interval(0.95, 4, loc=np.mean(values), scale=stats.sem(values))
    assert (estimate.mean, estimate.n) == (6.2, 5)
    assert (estimate.low, estimate.high) == pytest.approx((low, high))
    assert not Estimate.of([7.0, math.nan]).has_interval  # one finite value: no interval


def test_a_published_value_inside_the_widened_interval_is_reproduced():
    ours = Estimate(6.0, 5.5, 5.9, 5)
    assert published_inside(6.3, 0.5, ours)  # 6.3 <= 5.9 + 0.5
    assert not published_inside(6.3, None, ours)  # no published error: no widening
    assert not published_inside(5.0, 0.4, ours)  # 5.0 < 5.5 - 0.4
    assert verdict(MODES, 6.3, 0.5, ours, []) == (REPRODUCED, "")


def test_separated_intervals_in_the_published_order_reproduce_the_ordering():
    ours = Estimate(7.0, 6.8, 7.2, 5)  # published 7.9 +- 0.1: outside [6.7, 7.3]
    gan = Rival("GAN", 6.3, 0.5, Estimate(4.0, 3.5, 4.5, 5))
    missing = Rival("PacGAN3", 7.8, 0.1, None)  # no runs: not compared
    decided, note = verdict(MODES, 7.9, 0.1, ours, [gan, missing])
    assert decided == ORDERING_REPRODUCED
    assert note == (
        "ours 7.0 [6.8, 7.2] vs published 7.9 ± 0.1 (outside the widened interval); "
        "above GAN's 4.0 [3.5, 4.5] as published"
    )


def test_overlapping_intervals_are_not_reproduced_with_the_numbers_in_the_note():
    ours = Estimate(7.0, 6.8, 7.2, 5)
    gan = Rival("GAN", 6.3, 0.5, Estimate(6.9, 6.5, 7.3, 5))
    decided, note = verdict(MODES, 7.9, 0.1, ours, [gan])
    assert decided == NOT_REPRODUCED
    assert note == (
        "ours 7.0 [6.8, 7.2] vs published 7.9 ± 0.1 (outside the widened interval); "
        "published above GAN, ours overlaps GAN's 6.9 [6.5, 7.3]"
    )
    reversed_gan = Rival("GAN", 6.3, 0.5, Estimate(7.6, 7.4, 7.8, 5))
    assert "ours is on the other side of GAN's 7.6 [7.4, 7.8]" in verdict(
        MODES, 7.9, 0.1, ours, [reversed_gan]
    )[1]


def test_a_number_measured_on_other_data_is_judged_on_the_ordering_only():
    ours = Estimate(30.0, 20.0, 40.0, 3)  # published 30.6 +- 20.73 lies inside
    pacgan = Rival("PacDCGAN2", 484.5, None, Estimate(490.0, 470.0, 510.0, 3))
    assert verdict(MODES, 30.6, 20.73, ours, [pacgan]) == (REPRODUCED, "")
    decided, note = verdict(MODES, 30.6, 20.73, ours, [pacgan], measured_on="MNIST digits")
    assert decided == ORDERING_REPRODUCED
    assert note == (
        "ours 30.0 [20.0, 40.0] vs published 30.6 ± 20.7 on MNIST digits; "
        "below PacDCGAN2's 490.0 [470.0, 510.0] as published"
    )
    decided, note = verdict(MODES, 30.6, 20.73, ours, [], measured_on="MNIST digits")
    assert decided == NOT_REPRODUCED
    assert note.endswith("no other method ranked apart by the paper has runs to compare")


def test_methods_the_paper_does_not_rank_apart_impose_nothing():
    assert published_order(7.9, 0.1, 7.8, 0.1) == 0  # gap 0.1 <= 0.2
    assert published_order(7.9, 0.1, 6.3, 0.5) == 1
    assert published_order(1.0, None, 7.6, None) == -1  # VEEGAN gives no errors
    ours = Estimate(7.0, 6.8, 7.2, 5)
    tied = Rival("PacGAN3", 7.8, 0.1, Estimate(5.0, 4.8, 5.2, 5))
    decided, note = verdict(MODES, 7.9, 0.1, ours, [tied])
    assert decided == NOT_REPRODUCED
    assert note.endswith("no other method ranked apart by the paper has runs to compare")


def test_our_order_needs_intervals():
    a, b = Estimate(8.0, 8.0, 8.0, 5), Estimate(1.0, 0.5, 1.5, 5)
    assert (our_order(a, b), our_order(b, a), our_order(a, a)) == (1, -1, 0)
    assert our_order(a, Estimate(1.0, math.nan, math.nan, 1)) is None


def test_one_run_or_no_value_is_not_reproduced_and_says_why():
    one = Estimate.of([6.3])
    assert verdict(MODES, 6.3, 0.5, one, []) == (
        NOT_REPRODUCED,
        "ours 6.3 vs published 6.3 ± 0.5; one finished run gives no 95% interval",
    )
    assert verdict("mode_kl", 0.45, 0.09, Estimate.of([math.nan]), []) == (
        NOT_REPRODUCED,
        "no finite value in the finished runs",
    )


def test_high_quality_notes_are_in_percent():
    ours = Estimate(0.90, 0.88, 0.92, 5)
    decided, note = verdict("high_quality_frac", 0.982, 0.002, ours, [])
    assert decided == NOT_REPRODUCED
    assert note.startswith("ours 90.0% [88.0, 92.0] vs published 98.2% ± 0.2")


def test_pacgan_reverse_kl_is_log_k_minus_the_entropy_of_the_high_quality_histogram():
    counts = [30, 10, 0, 0, 5, 5, 0, 0]
    shares = np.array([30, 10, 5, 5]) / 50
    assert pacgan_reverse_kl(counts) == pytest.approx(math.log(8) + (shares * np.log(shares)).sum())
    # On a uniform mixture it is our mode_kl: KL(histogram || uniform weights).
    weights = torch.full((8,), 1 / 8)
    assert pacgan_reverse_kl(counts) == pytest.approx(mode_kl(torch.tensor(counts), weights))
    assert pacgan_reverse_kl([25] * 8) == pytest.approx(0.0, abs=1e-12)
    assert math.isnan(pacgan_reverse_kl([0] * 8)) and math.isnan(pacgan_reverse_kl(None))
