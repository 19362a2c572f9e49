"""Adherence curves from probe records, phase windows and the prompt bootstrap."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from simbench.errors import InputError
from simbench.logs.schema import CheckOutcome, PhaseInfo, ProbeRecord
from simbench.metrics.curves import Curve, adherence_curves, bootstrap_ci, mean_finite, phase_windows


def probe(t: int, pid: str, **passed: bool) -> ProbeRecord:
    checks = {pref: CheckOutcome(passed=ok) for pref, ok in passed.items()}
    return ProbeRecord(t=t, probe_id=pid, prompt="q", response="r", checks=checks)


def test_curve_is_share_of_prompts_passing_at_each_sorted_time():
    # A: t=0 -> 1 of 2 pass = 0.5; t=5 -> 2 of 2 = 1.0.  B: t=0 -> 0/2 = 0; t=5 -> 1/2 = 0.5.
    records = [
        probe(5, "p1", A=True, B=True), probe(5, "p2", A=True, B=False),
        probe(0, "p2", A=False, B=False), probe(0, "p1", A=True, B=False),
    ]
    curves = adherence_curves(records)
    assert set(curves) == {"A", "B"}
    assert curves["A"].t.tolist() == [0, 5]
    assert curves["A"].s.tolist() == [0.5, 1.0]
    assert curves["B"].s.tolist() == [0.0, 0.5]
    assert curves["A"].probe_ids == ("p1", "p2")
    assert curves["A"].passed.tolist() == [[1.0, 0.0], [1.0, 1.0]]


def test_repeated_probe_keeps_the_later_record():
    # p1 at t=0 first failed, then (after a resume) passed: s = (1 + 0) / 2 = 0.5.
    records = [probe(0, "p1", A=False), probe(0, "p2", A=False), probe(0, "p1", A=True)]
    assert adherence_curves(records)["A"].s.tolist() == [0.5]


def test_missing_check_is_left_out_of_the_share():
    # At t=0 only p1 checks B (passed): s_B = 1/1; p2's missing B is NaN in the matrix.
    records = [probe(0, "p1", A=True, B=True), probe(0, "p2", A=False)]
    curve = adherence_curves(records)["B"]
    assert curve.s.tolist() == [1.0]
    assert np.isnan(curve.passed[0, 1])


def test_window_includes_both_ends_and_at_or_before_takes_last_earlier_probe():
    curve = Curve("A", np.array([0, 10, 20, 30]), np.array([0.1, 0.2, 0.3, 0.4]), np.zeros((4, 1)), ("p",))
    assert curve.window(10, 20).t.tolist() == [10, 20]
    assert curve.at_or_before(25) == 0.3
    assert np.isnan(curve.at_or_before(-1))


def test_bootstrap_of_identical_values_has_zero_width():
    assert bootstrap_ci([0.7, 0.7, 0.7], n=200, seed=1) == (pytest.approx(0.7), pytest.approx(0.7))


def test_bootstrap_percentiles_match_the_binomial_resampling_distribution():
    # 9 zeros and one 1: a resample mean is X/10 with X ~ Binomial(10, 0.1).
    # P(X=0) = 0.9^10 = 0.349 > 2.5%, so the lower bound is 0.0; P(X<=2) = 0.930 < 97.5%
    # <= P(X<=3) = 0.987, so the upper bound is 0.3 (far from either edge for n=1000).
    lo, hi = bootstrap_ci([0.0] * 9 + [1.0], n=1000, seed=3)
    assert (lo, hi) == (pytest.approx(0.0), pytest.approx(0.3))
    assert bootstrap_ci([0.0] * 9 + [1.0], n=1000, seed=3) == (lo, hi)


def test_bootstrap_applies_a_statistic_to_resampled_prompt_rows():
    # Rows are prompts; the statistic is the mean of the last column. Both prompts end at 1.
    values = np.array([[0.0, 1.0], [0.5, 1.0]])
    assert bootstrap_ci(values, n=50, statistic=lambda m: m[:, -1].mean()) == (1.0, 1.0)


def test_bootstrap_of_no_prompts_is_nan():
    lo, hi = bootstrap_ci([], n=10)
    assert np.isnan(lo) and np.isnan(hi)


def test_phase_windows_end_at_next_start_and_episode_length():
    schedule = [PhaseInfo(at=0, preferences=["A"]), PhaseInfo(at=10, preferences=["B"])]
    first, second = phase_windows(schedule, 30)
    assert (first.start, first.end, first.length, first.preferences) == (0, 10, 10, ("A",))
    assert (second.index, second.start, second.end) == (1, 10, 30)


@pytest.mark.parametrize("starts, total", [([0, 10, 5], 30), ([0, 30], 30), ([], 30)])
def test_phase_windows_reject_unordered_or_too_late_phases(starts, total):
    schedule = [PhaseInfo(at=at, preferences=["A"]) for at in starts]
    with pytest.raises(InputError, match="persona.schedule"):
        phase_windows(schedule, total)


def test_mean_finite_near_the_float_limit_is_inf_without_a_numpy_warning():
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # numpy's overflow warning would reach the CLI's stderr
        assert mean_finite([1e308, 1e308, float("nan")]) == float("inf")
        assert np.isnan(mean_finite([float("nan")]))
