"""The paired gap and its bootstrap interval, against values computed by hand."""

from __future__ import annotations

import pytest

from simbench.metrics.paired_gap import paired_gap, quantile


def test_gap_is_the_mean_of_the_paired_differences():
    # differences 1, 0, 0, 1 -> 0.5
    assert paired_gap([1, 1, 0, 1], [0, 1, 0, 0]).gap == 0.5


def test_constant_differences_give_a_zero_width_interval_at_that_value():
    result = paired_gap([1, 1, 1], [0, 0, 0], resamples=200)
    assert (result.gap, result.low, result.high) == (1.0, 1.0, 1.0)
    assert result.excludes_zero and result.n == 3


def test_two_pairs_match_the_exact_bootstrap_distribution():
    # Differences (1, 0): a resample's mean is 0, 0.5 or 1 with probability 1/4, 1/2, 1/4.
    # A 95% interval spans both extremes; a 40% interval (quantiles 0.3 and 0.7) sits
    # inside the middle half, i.e. exactly at 0.5.
    wide = paired_gap([1, 0], [0, 0], resamples=4000, level=0.95)
    assert (wide.low, wide.high) == (0.0, 1.0) and not wide.excludes_zero
    narrow = paired_gap([1, 0], [0, 0], resamples=4000, level=0.4)
    assert (narrow.low, narrow.high) == (0.5, 0.5)


def test_pairing_removes_the_spread_between_items():
    # Arm a is arm b plus 0.25 on every item, while items differ widely from each other:
    # the paired interval is exactly 0.25, though each arm alone spreads over [0, 1].
    b = [0.0, 0.75, 0.25, 0.5, 0.0, 0.75]
    a = [x + 0.25 for x in b]
    result = paired_gap(a, b, resamples=300)
    assert result.low == result.high == pytest.approx(0.25)


def test_same_seed_same_interval_and_another_seed_may_differ():
    a, b = [1, 0, 1, 1, 0, 1, 0, 1], [0, 0, 1, 0, 0, 1, 1, 0]
    assert paired_gap(a, b, seed=3) == paired_gap(a, b, seed=3)
    intervals = {(r.low, r.high) for r in (paired_gap(a, b, resamples=50, seed=s) for s in range(20))}
    assert len(intervals) > 1


def test_quantile_interpolates_linearly_between_order_statistics():
    assert quantile([0.0, 1.0, 2.0, 3.0], 0.5) == 1.5
    assert quantile([0.0, 1.0, 2.0, 3.0], 0.0) == 0.0 and quantile([0.0, 1.0, 2.0, 3.0], 1.0) == 3.0
    assert quantile([0.0, 10.0], 0.25) == 2.5


@pytest.mark.parametrize("a, b, options, message", [
    ([1, 0], [1], {}, "equal lengths"),
    ([], [], {}, "at least one pair"),
    ([1], [0], {"level": 1.0}, "0 < level < 1"),
    ([1], [0], {"resamples": 0}, "resamples >= 1"),
])
def test_bad_input_is_refused(a, b, options, message):
    with pytest.raises(ValueError, match=message):
        paired_gap(a, b, **options)
