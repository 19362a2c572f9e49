"""Paired statistics: per-prompt scores from a toy probe log, paired differences, the t interval
with the user as the unit and the minimum detectable difference, each against values computed
by hand, and the interval's coverage by simulation."""

from __future__ import annotations

import math

import numpy as np
import pytest

from simbench.logs.schema import CheckOutcome, ProbeRecord
from simbench.metrics.curves import PhaseWindow, adherence_curves
from simbench.metrics.paired import (
    after_scores,
    clip_interval,
    cluster_se,
    minimum_detectable_difference,
    paired_differences,
    paired_interval,
    phase_end_scores,
)

T975 = {1: 12.706205, 4: 2.776445}  # Student t quantiles, from tables
T80 = {1: 1.376382, 4: 0.940965}

WINDOWS = [PhaseWindow(0, 0, 4, ("A",)), PhaseWindow(1, 4, 8, ("A", "B"))]


def toy_log(table: dict[str, dict[int, list[int]]]) -> list[ProbeRecord]:
    """Probe records with table[pref][t][prompt] as the 0/1 outcome."""
    times = sorted({t for rows in table.values() for t in rows})
    n = len(next(iter(table.values()))[times[0]])
    return [ProbeRecord(t=t, probe_id=f"p{i}", prompt="q", response="a",
                        checks={pref: CheckOutcome(passed=bool(rows[t][i])) for pref, rows in table.items()})
            for t in times for i in range(n)]


# Probes at t = 0, 4, 8 over prompts p0, p1, p2.
LEARNER = toy_log({"A": {0: [0, 0, 0], 4: [1, 1, 0], 8: [1, 0, 0]},
                   "B": {0: [0, 0, 0], 4: [0, 0, 0], 8: [1, 1, 0]}})
CONTROL = toy_log({"A": {0: [0, 0, 0], 4: [1, 0, 0], 8: [0, 0, 1]},
                   "B": {0: [0, 0, 0], 4: [0, 0, 0], 8: [0, 1, 0]}})


def test_phase_end_scores_average_each_phases_end_on_its_active_preferences():
    # p0: A@4 = 1, A@8 = 1, B@8 = 1 -> 1; p1: 1, 0, 1 -> 2/3; p2: 0, 0, 0 -> 0.
    scores = phase_end_scores(adherence_curves(LEARNER), WINDOWS)
    assert scores == pytest.approx({"p0": 1.0, "p1": 2 / 3, "p2": 0.0})
    # Leaving B out (e.g. unreachable at the token cap): p0: def test_paired_differences_of_the_toy_log_by_hand():
    # Control: p0: A@4 1, A@8 0, B@8 0 -> 1/3; p1: 0, 0, 1 -> 1/3; p2: 0, 1, 0 -> 1/3.
    learner = phase_end_scores(adherence_curves(LEARNER), WINDOWS)
    control = phase_end_scores(adherence_curves(CONTROL), WINDOWS)
    diffs = paired_differences(learner, control)
    assert diffs == pytest.approx([2 / 3, 1 / 3, -1 / 3])
    result = paired_interval([diffs])
    assert result.mean == pytest.approx(2 / 9)
    assert (result.n, result.n_seeds) == (3, 1)
    # sd of (2/3, 1/3, -1/3) with ddof 1: deviations 4/9, 1/9, -5/9 -> sqrt((16+1+25)/81/2).
    assert result.sd == pytest.approx(math.sqrt(42 / 162))


def test_paired_differences_use_prompts_scored_in_both_runs_only():
    assert paired_differences({"a": 1.0, "b": 0.5, "c": 0.0}, {"a": 0.0, "b": 0.5, "d": 1.0}).tolist() == [1.0, 0.0]


def test_minimum_detectable_difference_uses_t_at_the_units_degrees_of_freedom():
    # 5 users (4 df): (2.776445 + 0.940965) x se, ~33% above the normal 2.801585 (df None).
    assert minimum_detectable_difference(0.1, df=4) == pytest.approx(0.3717410, abs=1e-6)
    assert minimum_detectable_difference(0.1) == pytest.approx(0.2801585, abs=1e-6)
    assert minimum_detectable_difference(0.1, level=0.9, power=0.9) == pytest.approx(
        (1.644854 + 1.281552) * 0.1, abs=1e-6)


def test_two_users_give_a_t_interval_with_one_degree_of_freedom():
    # User means 0 and 1: mean 0.5, se = sd(0, 1)/sqrt(2) = 0.5, half-width 12.706 x 0.5.
    result = paired_interval([[0.0, 0.0, 0.0], [1.0, 1.0, 1.0]], bounds=None)
    assert (result.mean, result.se, result.df, result.unit) == (0.5, pytest.approx(0.5), 1, "user")
    assert (result.lo, result.hi) == pytest.approx((0.5 - T975[1] * 0.5, 0.5 + T975[1] * 0.5))
    assert result.mdd == pytest.approx((T975[1] + T80[1]) * 0.5)
    assert (result.n_seeds, result.n, result.resamples) == (2, 6, 0)
    assert "t-interval over 2 users (seeds; 1 df)" in result.method


def test_clip_interval_cuts_only_the_ends_past_the_metrics_range():
    assert clip_interval(-0.52, 2.30, (0.0, 1.0)) == (0.0, 1.0)
    assert clip_interval(-0.05, 1.55, (-1.0, 1.0)) == (-0.05, 1.0)
    assert clip_interval(0.2, 0.4, (0.0, 1.0)) == (0.2, 0.4)
    assert clip_interval(-3.0, 7.5, None) == (-3.0, 7.5)  # unbounded (drift, seconds): left alone


def test_paired_interval_is_clipped_to_a_differences_range_and_says_so():
    # One user, pair differences 1, 1, 1, 0: mean 0.75, t over 4 prompts reaches past +1.
    raw = paired_interval([[1.0, 1.0, 1.0, 0.0]], bounds=None)
    assert raw.hi > 1.0 and raw.lo > -1.0
    result = paired_interval([[1.0, 1.0, 1.0, 0.0]])
    assert (result.lo, result.hi) == (pytest.approx(raw.lo), 1.0)
    assert result.lo <= result.mean <= result.hi
    assert (result.se, result.mdd) == (raw.se, raw.mdd)  # only the interval's ends are cut
    assert "clipped to the metric's range [-1, 1]" in result.method
    two_users = paired_interval([[0.0, 0.0, 0.0], [1.0, 1.0, 1.0]])
    assert (two_users.lo, two_users.hi) == (-1.0, 1.0)  # 0.5 ± 6.35 cut at the range
    assert paired_interval([[1.0, 1.0, 0.0, 0.5]], bounds=(0.0, 1.0)).hi == 1.0


def test_cluster_se_weights_users_by_their_pairs():
    # Sums 4 and 0 over 4 and 1 pairs: pooled mean 0.8, residuals 4 - 3.2 and 0 - 0.8, so
    # se = sqrt(2/1 x (0.64 + 0.64)) / 5 = 0.32; with equal sizes it is sd(user means)/sqrt(U).
    assert cluster_se([np.ones(4), np.zeros(1)]) == pytest.approx(0.32)
    groups = [np.array([0.0, 1.0]), np.array([1.0, 1.0]), np.array([0.0, 0.0])]
    assert cluster_se(groups) == pytest.approx(np.std([0.5, 1.0, 0.0], ddof=1) / math.sqrt(3))


def test_one_user_falls_back_to_prompts_as_the_unit_and_says_so():
    result = paired_interval([[0.0, 1.0]], bounds=None)
    assert (result.unit, result.df, result.se) == ("prompt", 1, pytest.approx(0.5))
    assert (result.lo, result.hi) == pytest.approx((0.5 - T975[1] * 0.5, 0.5 + T975[1] * 0.5))
    assert "one user" in result.method and "nothing about other users" in result.method


def test_nan_and_empty_groups_are_left_out_and_one_pair_has_no_interval():
    groups = [np.array([0.2, 0.4, np.nan, 0.9]), np.array([]), np.array([0.1, 0.3])]
    first = paired_interval(groups)
    assert (first.n, first.n_seeds, first.df) == (5, 2, 1) and first.mean == pytest.approx(1.9 / 5)
    assert paired_interval([[], [np.nan]]) is None
    assert paired_interval([[0.4]]) is None


def test_constant_differences_have_a_zero_width_interval():
    result = paired_interval([[0.25, 0.25], [0.25]])
    assert (result.mean, result.lo, result.hi, result.se, result.mdd) == pytest.approx((0.25, 0.25, 0.25, 0, 0))


def _two_stage_percentile(groups: list[np.ndarray], rng: np.random.Generator, n: int = 1000) -> tuple[float, float]:
    """The interval this project printed before: resample users, then prompts within each
    drawn user, 2.5/97.5 percentiles (equal-sized groups, so one array operation)."""
    table = np.stack(groups)
    users, prompts = table.shape
    picked = rng.integers(0, users, (n, users))
    stats = table[picked[:, :, None], rng.integers(0, prompts, (n, users, prompts))].mean(axis=(1, 2))
    lo, hi = np.percentile(stats, [2.5, 97.5])
    return float(lo), float(hi)


@pytest.mark.parametrize("users", [5, 20])
def test_t_interval_over_users_covers_the_true_difference_95_percent_of_the_time(users):
    """400 simulated data sets per case: each user has a base rate b_u ~ U(0.2, 0.6) and a
    learner rate b_u + 0.1 + e_u, e_u ~ U(-0.2, 0.2) (a user effect), and 24 prompts whose
    learner and twin outcomes are Bernoulli draws; the true mean difference is 0.1.
    Measured: coverage 0.9525 at 5 and at 20 users (mean widths 0.421, 0.166). The old
    two-stage percentile bootstrap covered 0.9675 and 0.985 with widths 0.356 (15% narrower:
    percentiles of 5 clusters act like z) and 0.191 (15% wider: within-user spread counted
    twice), so the two are measurably different."""
    rng = np.random.default_rng(users)
    covered, width, old_width = 0, 0.0, 0.0
    for _ in range(400):
        base = rng.uniform(0.2, 0.6, users)
        rate = base + 0.1 + rng.uniform(-0.2, 0.2, users)
        learner = rng.random((users, 24)) < rate[:, None]
        twin = rng.random((users, 24)) < base[:, None]
        groups = list(learner.astype(float) - twin)
        result = paired_interval(groups)
        covered += result.lo <= 0.1 <= result.hi
        width += result.hi - result.lo
        lo, hi = _two_stage_percentile(groups, rng)
        old_width += hi - lo
    assert 0.92 <= covered / 400 <= 0.98
    ratio = old_width / width
    assert ratio < 0.9 if users == 5 else ratio > 1.08


def test_after_scores_average_the_chosen_times_after_the_flip():
    # A after τ = 4 at the common time 8 only: p0 1, p1 0, p2 0.
    curve = adherence_curves(LEARNER)["A"]
    assert after_scores(curve, 4, {8}) == {"p0": 1.0, "p1": 0.0, "p2": 0.0}
    assert after_scores(curve, 0, {4, 8}) == {"p0": 1.0, "p1": 0.5, "p2": 0.0}
    assert after_scores(curve, 8, {8}) == {}
