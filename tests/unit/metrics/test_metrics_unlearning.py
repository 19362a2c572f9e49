"""U(t), steps-to-unlearn, perseveration, and telling flips from drops."""

from __future__ import annotations

import numpy as np
import pytest

from simbench.metrics.curves import Curve, PhaseWindow
from simbench.metrics.unlearning import (
    MIN_TO_UNLEARN,
    UnlearningEvent,
    unlearning_events,
    unlearning_in_phase,
    unlearning_score,
)

FLIP = UnlearningEvent("A", 0, 1, "flip", "not_A")


def curve(t, s, pref="A") -> Curve:
    s = np.asarray(s, dtype=float)
    return Curve(pref, np.asarray(t), s, s[:, None], ("p",))


def test_score_is_zero_at_the_old_level_and_one_back_at_base():
    # s(τ)=0.9, b=0.1: U = (0.9 - s)/0.8 -> [0, 0.5, 1, clip 1].
    assert unlearning_score([0.9, 0.5, 0.1, 0.0], 0.9, 0.1) == pytest.approx([0.0, 0.5, 1.0, 1.0])


def test_score_with_nothing_learned_is_one_at_or_below_base():
    # s(τ) = b = 0.1: U = 1 where s <= 0.1, else 0.
    assert unlearning_score([0.1, 0.2], 0.1, 0.1).tolist() == [1.0, 0.0]


def test_sustained_unlearning_and_perseveration_area():
    # τ=20, b=0.1, s(τ)=0.9. Probes after τ: 25..40 every 5 with s = [.5,.1,.1,.3]:
    # U = [.5, 1, 1, .75]; U >= .8 held twice from t=30 -> steps = 10;
    # perseveration = mean(1-U) = (.5 + 0 + 0 + .25)/4 = 0.1875 (the probe at τ is the
    # reference, answered with pre-flip weights, and is not counted).
    c = curve([0, 10, 20, 25, 30, 35, 40], [0.1, 0.9, 0.9, 0.5, 0.1, 0.1, 0.3])
    result = unlearning_in_phase(c, FLIP, PhaseWindow(1, 20, 40, ("not_A",)), b=0.1)
    assert (result.steps_to_unlearn, result.censored) == (10, False)
    assert result.perseveration == pytest.approx(0.1875)
    assert result.n_probes == 4
    assert result.s_at_change == pytest.approx(0.9)
    assert (result.final_s, result.final_u) == (pytest.approx(0.3), pytest.approx(0.75))
    assert (result.kind, result.replaced_by, result.phase) == ("flip", "not_A", 1)


def test_unlearning_reached_only_at_the_last_probe_is_censored():
    # Probes after τ=20: 30,40 with s = .5,.1 (b=.1): U = .5,1 -> one passing probe, censored
    # at 20; perseveration = (.5 + 0)/2 = 0.25.
    c = curve([0, 10, 20, 30, 40], [0.1, 0.9, 0.9, 0.5, 0.1])
    result = unlearning_in_phase(c, FLIP, PhaseWindow(1, 20, 40, ("not_A",)), b=0.1)
    assert (result.steps_to_unlearn, result.censored) == (20, True)
    assert result.perseveration == pytest.approx(0.25)


def test_perseveration_can_reach_zero_when_unlearned_at_the_first_probe_after_the_flip():
    # The old rule counted the probe at τ (U = 0 by definition), so perseveration could never
    # drop below 1/n; here s falls to b right after τ: perseveration 0, steps 5.
    c = curve([0, 20, 25, 30], [0.0, 1.0, 0.0, 0.0])
    result = unlearning_in_phase(c, FLIP, PhaseWindow(1, 20, 30, ("not_A",)), b=0.0)
    assert result.perseveration == 0.0
    assert (result.steps_to_unlearn, result.censored) == (5, False)


def test_level_at_change_comes_from_the_last_probe_before_it():
    # No probe at τ=20: s(τ) = s(15) = 0.8; probes after τ t=25,40 with s=.8,.0, b=0:
    # U = 0, 1 -> perseveration (1 + 0)/2 = 0.5.
    c = curve([0, 15, 25, 40], [0.0, 0.8, 0.8, 0.0])
    result = unlearning_in_phase(c, FLIP, PhaseWindow(1, 20, 40, ("not_A",)), b=0.0)
    assert result.s_at_change == pytest.approx(0.8)
    assert result.perseveration == pytest.approx(0.5)


def test_old_preference_never_above_base_is_not_applicable():
    c = curve([0, 10, 20], [0.2, 0.2, 0.2])
    result = unlearning_in_phase(c, FLIP, PhaseWindow(1, 10, 20, ("not_A",)), b=0.2)
    assert "nothing_to_unlearn" in result.flags
    assert result.steps_to_unlearn is None and np.isnan(result.perseveration) and np.isnan(result.final_u)


def test_a_rise_below_the_minimum_is_nothing_to_unlearn_but_one_at_it_is_scored():
    # 0/12 at τ (the committed sdpo-token seed that scored 0.75) and 1/12 above b = 0 are not
    # applicable; 2/12 = 0.167 >= MIN_TO_UNLEARN is scored.
    for s_tau, applicable in ((0.0, False), (1 / 12, False), (MIN_TO_UNLEARN, True), (2 / 12, True)):
        c = curve([0, 10, 20], [0.0, s_tau, 0.0])
        result = unlearning_in_phase(c, FLIP, PhaseWindow(1, 10, 20, ("not_A",)), b=0.0)
        assert ("nothing_to_unlearn" not in result.flags) is applicable, s_tau
        assert np.isnan(result.perseveration) is not applicable, s_tau


def test_events_separate_flips_from_drops_reading_opposites_both_ways():
    windows = [PhaseWindow(0, 0, 10, ("A", "C")), PhaseWindow(1, 10, 20, ("not_A",))]
    for opposites in ({"A": "not_A"}, {"not_A": "A"}):
        events = unlearning_events(windows, opposites)
        assert [(e.preference, e.kind, e.replaced_by) for e in events] == [
            ("A", "flip", "not_A"), ("C", "drop", None)]
    assert [e.kind for e in unlearning_events(windows, {})] == ["drop", "drop"]


def test_a_one_way_opposite_is_a_flip_even_when_its_target_names_another():
    # elaborate -> concise, while concise keeps detailed: concise then elaborate is a flip.
    windows = [PhaseWindow(0, 0, 10, ("concise",)), PhaseWindow(1, 10, 20, ("elaborate",))]
    opposites = {"concise": "detailed", "elaborate": "concise"}
    assert [(e.preference, e.kind, e.replaced_by) for e in unlearning_events(windows, opposites)] == [
        ("concise", "flip", "elaborate")]
