"""Paired statistics: per-prompt scores from a toy probe log, paired differences, the two-stage
bootstrap and the minimum detectable difference, each against values computed by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest

from simbench.logs.schema import CheckOutcome, ProbeRecord
from simbench.metrics.curves import PhaseWindow, adherence_curves
from simbench.metrics.paired import (
    after_scores, minimum_detectable_difference, paired_bootstrap, paired_differences, phase_end_scores,
)

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
    # Leaving B out (e.g. unreachable at the token cap): p0: 1, 1 -> 1; p1: 1, 0 -> .5; p2: 0.
    assert phase_end_scores(adherence_curves(LEARNER), WINDOWS, exclude={"B"}) == pytest.approx(
        {"p0": 1.0, "p1": 0.5, "p2": 0.0})


def test_paired_differences_of_the_toy_log_by_hand():
    # Control: p0: A@4 1, A@8 0, B@8 0 -> 1/3; p1: 0, 0, 1 -> 1/3; p2: 0, 1, 0 -> 1/3.
    learner = phase_end_scores(adherence_curves(LEARNER), WINDOWS)
    control = phase_end_scores(adherence_curves(CONTROL), WINDOWS)
    diffs = paired_differences(learner, control)
    assert diffs == pytest.approx([2 / 3, 1 / 3, -1 / 3])
    result = paired_bootstrap([diffs], n=4000, seed=1)
    assert result.mean == pytest.approx(2 / 9)
    assert (result.n, result.n_seeds) == (3, 1)
    # sd of (2/3, 1/3, -1/3) with ddof 1: deviations 4/9, 1/9, -5/9 -> sqrt((16+1+25)/81/2).
    assert result.sd == pytest.approx(math.sqrt(42 / 162))


def test_paired_differences_use_prompts_scored_in_both_runs_only():
    assert paired_differences({"a": 1.0, "b": 0.5, "c": 0.0}, {"a": 0.0, "b": 0.5, "d": 1.0}).tolist() == [1.0, 0.0]


def test_minimum_detectable_difference_is_z_sum_times_se():
    # z_0.975 = 1.959964, z_0.80 = 0.841621: factor 2.801585.
    assert minimum_detectable_difference(0.1) == pytest.approx(0.2801585, abs=1e-6)
    assert minimum_detectable_difference(0.1, level=0.9, power=0.9) == pytest.approx(
        (1.644854 + 1.281552) * 0.1, abs=1e-6)


def test_bootstrap_over_seeds_by_hand():
    # Two seeds whose pairs all differ by 0 and by 1: within-seed resampling changes nothing,
    # so a resample's mean is 0, .5 or 1 with probability 1/4, 1/2, 1/4: the 95% interval is
    # [0, 1] and the bootstrap SE sqrt(1/8) = 0.354, MDD = 2.8016 * 0.354 = 0.99.
    result = paired_bootstrap([[0.0, 0.0, 0.0], [1.0, 1.0, 1.0]], n=20000, seed=0)
    assert result.mean == 0.5 and (result.lo, result.hi) == (0.0, 1.0)
    assert (result.n_seeds, result.n) == (2, 6)
    assert result.se == pytest.approx(math.sqrt(1 / 8), abs=0.01)
    assert result.mdd == pytest.approx(2.801585 * result.se)
    assert result.sd == pytest.approx(math.sqrt(6 * 0.25 / 5))
    assert "2 seeds x probe prompts (6 pairs, 20000 resamples)" in result.method


def test_bootstrap_within_one_seed_resamples_its_prompts():
    # One seed, pairs (0, 1): a resample's mean is 0, .5, 1 with probability 1/4, 1/2, 1/4,
    # the same distribution as above, now from the prompt stage alone.
    result = paired_bootstrap([[0.0, 1.0]], n=20000, seed=3)
    assert (result.lo, result.hi) == (0.0, 1.0)
    assert result.se == pytest.approx(math.sqrt(1 / 8), abs=0.01)


def test_bootstrap_is_seeded_and_ignores_nan_and_empty_groups():
    groups = [np.array([0.2, 0.4, np.nan, 0.9]), np.array([]), np.array([0.1, 0.3])]
    first, again = paired_bootstrap(groups, n=500, seed=7), paired_bootstrap(groups, n=500, seed=7)
    assert first == again
    assert (first.n, first.n_seeds) == (5, 2) and first.mean == pytest.approx(1.9 / 5)
    assert paired_bootstrap([[], [np.nan]]) is None


def test_constant_differences_have_a_zero_width_interval():
    result = paired_bootstrap([[0.25, 0.25], [0.25]], n=200)
    assert (result.mean, result.lo, result.hi, result.se, result.mdd) == pytest.approx((0.25, 0.25, 0.25, 0, 0))


def test_after_scores_average_the_chosen_times_after_the_flip():
    # A after τ = 4 at the common time 8 only: p0 1, p1 0, p2 0.
    curve = adherence_curves(LEARNER)["A"]
    assert after_scores(curve, 4, {8}) == {"p0": 1.0, "p1": 0.0, "p2": 0.0}
    assert after_scores(curve, 0, {4, 8}) == {"p0": 1.0, "p1": 0.5, "p2": 0.0}
    assert after_scores(curve, 8, {8}) == {}
