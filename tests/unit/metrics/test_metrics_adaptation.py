"""Normalised gain, sustained steps-to-threshold, AULC and final adherence per phase."""

from __future__ import annotations

import numpy as np
import pytest

from simbench.metrics.adaptation import adaptation_in_phase, newly_active, normalised_gain
from simbench.metrics.curves import Curve, PhaseWindow


def curve(t, s, pref="A") -> Curve:
    s = np.asarray(s, dtype=float)
    return Curve(pref, np.asarray(t), s, s[:, None], ("p",))


def test_gain_rescales_between_frozen_and_ceiling_and_clips():
    # b=0.2, c=0.8: (0.1-0.2)/0.6 -> clip 0; (0.5-0.2)/0.6 = 0.5; (0.8-0.2)/0.6 = 1; 1.0 -> clip 1.
    assert normalised_gain([0.1, 0.5, 0.8, 1.0], 0.2, 0.8) == pytest.approx([0.0, 0.5, 1.0, 1.0])


@pytest.mark.parametrize("b, c, s, expected", [
    (0.6, 0.6, [0.5, 0.6, 0.7], [0.0, 1.0, 1.0]),  # b == c: 1 where s >= c, else 0
    (0.7, 0.5, [0.4, 0.5], [0.0, 1.0]),  # ceiling below base: same rule
])
def test_gain_without_headroom_is_one_at_or_above_ceiling(b, c, s, expected):
    assert normalised_gain(s, b, c).tolist() == expected


def test_gain_of_missing_adherence_or_baseline_is_nan():
    assert np.isnan(normalised_gain([np.nan, 0.5], 0.0, 1.0)[0])
    assert np.isnan(normalised_gain([0.5], float("nan"), 1.0)).all()


def test_steps_to_threshold_is_first_of_two_consecutive_probes_over_theta():
    # b=0.2, c=1: g = (s-0.2)/0.8 = [0, 0.375, 0.75, 0.8125, 0.875]; g >= 0.8 first held
    # twice from t=30, so N = 30 - 0. AULC = (0+0.375+0.75+0.8125+0.875)/5 = 0.5625.
    result = adaptation_in_phase(curve([0, 10, 20, 30, 40], [0.2, 0.5, 0.8, 0.85, 0.9]),
                                 PhaseWindow(0, 0, 40, ("A",)), b=0.2, c=1.0)
    assert (result.steps_to_threshold, result.censored) == (30, False)
    assert result.aulc == pytest.approx(0.5625)
    assert (result.final_s, result.final_g) == (pytest.approx(0.9), pytest.approx(0.875))
    assert result.n_probes == 5 and result.flags == ()


def test_steps_count_from_phase_start_and_use_only_the_phase_probes():
    # Phase 10..30 sees probes t=10,20,30 with g = s = [0, 0.9, 0.9]: N = 20 - 10 = 10,
    # AULC = 1.8 / 3 = 0.6; the probes at t=0 and t=40 lie outside the phase.
    result = adaptation_in_phase(curve([0, 10, 20, 30, 40], [1.0, 0.0, 0.9, 0.9, 0.0]),
                                 PhaseWindow(1, 10, 30, ("A",)), b=0.0, c=1.0)
    assert result.steps_to_threshold == 10 and not result.censored
    assert result.aulc == pytest.approx(0.6)
    assert result.final_s == pytest.approx(0.9)


def test_threshold_never_reached_is_censored_at_phase_length():
    # g = s = [0.2, 0.3, 0.4] never reaches 0.8: N = phase length 20, flagged.
    result = adaptation_in_phase(curve([0, 10, 20], [0.2, 0.3, 0.4]), PhaseWindow(0, 0, 20, ("A",)), 0.0, 1.0)
    assert (result.steps_to_threshold, result.censored) == (20, True)
    assert "censored" in result.flags
    assert result.aulc == pytest.approx(0.3)


def test_noisy_curve_touching_threshold_once_is_not_sustained():
    # g = [0, 0.9, 0.5, 0.85, 0.7]: over 0.8 at t=10 and t=30 but never twice in a row.
    result = adaptation_in_phase(curve([0, 10, 20, 30, 40], [0, 0.9, 0.5, 0.85, 0.7]),
                                 PhaseWindow(0, 0, 40, ("A",)), 0.0, 1.0)
    assert (result.steps_to_threshold, result.censored) == (40, True)


def test_passing_run_cut_off_by_phase_end_is_censored():
    # Only the phase's last probe passes; the next passing probe (t=30) belongs to a later phase.
    result = adaptation_in_phase(curve([0, 10, 20, 30], [0.0, 0.5, 0.9, 0.9]), PhaseWindow(0, 0, 20, ("A",)), 0.0, 1.0)
    assert result.censored and result.steps_to_threshold == 20


def test_single_probe_cannot_sustain_but_gives_aulc_and_final():
    result = adaptation_in_phase(curve([0], [1.0]), PhaseWindow(0, 0, 10, ("A",)), 0.0, 1.0)
    assert (result.steps_to_threshold, result.censored) == (10, True)
    assert (result.aulc, result.final_s, result.n_probes) == (1.0, 1.0, 1)
    assert "too_few_probes_to_sustain" in result.flags
    # With a one-probe hold the same probe counts: N = 0 - 0.
    relaxed = adaptation_in_phase(curve([0], [1.0]), PhaseWindow(0, 0, 10, ("A",)), 0.0, 1.0, sustain=1)
    assert (relaxed.steps_to_threshold, relaxed.censored) == (0, False)


def test_phase_without_probes_is_censored_with_nan_area():
    result = adaptation_in_phase(curve([0, 30], [0.0, 1.0]), PhaseWindow(1, 10, 20, ("A",)), 0.0, 1.0)
    assert (result.steps_to_threshold, result.censored, result.n_probes) == (10, True, 0)
    assert np.isnan(result.aulc) and np.isnan(result.final_s) and np.isnan(result.final_g)
    assert "no_probes" in result.flags


def test_base_already_at_ceiling_is_not_applicable_instead_of_a_free_one():
    # b = c = 1 and s stays 1: nothing to gain, so no AULC, final g or steps (not a 1.0
    # every arm would get for matching the base); raw final adherence is still shown.
    result = adaptation_in_phase(curve([0, 10, 20], [1.0, 1.0, 1.0]), PhaseWindow(0, 0, 20, ("A",)), 1.0, 1.0)
    assert result.steps_to_threshold is None and not result.censored
    assert np.isnan(result.aulc) and np.isnan(result.final_g)
    assert result.final_s == 1.0
    assert "no_headroom" in result.flags and "censored" not in result.flags


def test_ceiling_below_base_is_not_applicable_too():
    # c = 0.17 < b = 0.5 (a weak oracle): no headroom whatever the learner does.
    result = adaptation_in_phase(curve([0, 10, 20], [0.5, 0.9, 0.9]), PhaseWindow(0, 0, 20, ("A",)), 0.5, 0.17)
    assert "no_headroom" in result.flags and np.isnan(result.aulc)


def test_newly_active_lists_first_phase_additions_and_returns():
    windows = [PhaseWindow(0, 0, 10, ("A",)), PhaseWindow(1, 10, 20, ("A", "B")),
               PhaseWindow(2, 20, 30, ("B",)), PhaseWindow(3, 30, 40, ("A", "B"))]
    assert [(w.index, pref) for w, pref in newly_active(windows)] == [(0, "A"), (1, "B"), (3, "A")]
