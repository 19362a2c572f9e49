"""A flip run against its matching no-flip run, and collateral drift from drift records."""

from __future__ import annotations

import pytest
from test_metrics_paired import toy_log

from simbench.errors import InputError
from simbench.metrics.curves import PhaseWindow, adherence_curves
from simbench.metrics.drift import collateral_drift
from simbench.metrics.flip import first_flip, flip_against_no_flip, identical_before

# τ = 4. Both runs are identical at t <= 4; after it the no-flip run keeps A on p0 and p1 and
# the flip run drops A on p0 only (t = 8), then everywhere (t = 12; the no-flip run ends at 8).
NO_FLIP = toy_log({"A": {0: [0, 0], 4: [1, 1], 8: [1, 1]}, "B": {0: [0, 0], 4: [0, 0], 8: [0, 0]}})
FLIP = toy_log({"A": {0: [0, 0], 4: [1, 1], 8: [0, 1], 12: [0, 0]},
                "B": {0: [0, 0], 4: [0, 0], 8: [1, 0], 12: [1, 1]}})


def test_first_flip_finds_tau_and_both_preferences():
    windows = [PhaseWindow(0, 0, 4, ("A",)), PhaseWindow(1, 4, 12, ("B",))]
    assert first_flip(windows, {"A": "B"}) == (4, "A", "B")
    assert first_flip(windows, {}) is None  # A dropped, not flipped


def test_flip_against_no_flip_by_hand():
    # Rows: the τ probe (t = 4) and every later flip-run probe; the no-flip run ends at 8.
    # Content test on the common time after τ, 8: A flip .5 vs no-flip 1; per prompt p0
    # 0 - 1 = -1, p1 1 - 1 = 0.
    out = flip_against_no_flip(adherence_curves(FLIP), adherence_curves(NO_FLIP), 4, "A", "B")
    assert out["rows"] == [
        {"t": 4, "flip_old": 1.0, "no_flip_old": 1.0, "flip_new": 0.0, "no_flip_new": 0.0},
        {"t": 8, "flip_old": 0.5, "no_flip_old": 1.0, "flip_new": 0.5, "no_flip_new": 0.0},
        {"t": 12, "flip_old": 0.0, "no_flip_old": None, "flip_new": 1.0, "no_flip_new": None}]
    paired = out["paired"]
    assert paired["mean"] == -0.5 and paired["n"] == 2
    assert paired["lo"] < -0.5 < paired["hi"]


def test_changes_from_tau_pair_the_last_probe_with_the_tau_probe_prompt_by_prompt():
    # B: [0, 0] at τ = 4, [1, 1] at the end (12): +1 on both prompts. A: [1, 1] -> [0, 0].
    out = flip_against_no_flip(adherence_curves(FLIP), adherence_curves(NO_FLIP), 4, "A", "B")
    assert (out["new_change"]["mean"], out["new_change"]["n"]) == (1.0, 2)
    assert (out["old_change"]["mean"], out["old_change"]["hi"]) == (-1.0, -1.0)
    # Ending the flip's phase at 8 (another phase would follow): B .5 - 0, A .5 - 1.
    at8 = flip_against_no_flip(adherence_curves(FLIP), adherence_curves(NO_FLIP), 4, "A", "B", end=8)
    assert at8["new_change"]["mean"] == 0.5 and at8["old_change"]["mean"] == -0.5
    assert [r["t"] for r in at8["rows"]] == [4, 8]


def test_the_tau_probe_is_the_last_one_at_or_before_tau():
    # τ = 6 has no probe: the t = 4 probe (answered under the old wish) stands for it.
    out = flip_against_no_flip(adherence_curves(FLIP), adherence_curves(NO_FLIP), 6, "A", "B")
    assert [r["t"] for r in out["rows"]] == [4, 8, 12]
    assert out["new_change"]["mean"] == 1.0


def test_a_flip_that_ignored_the_feedback_shows_no_difference():
    # The flip run stays exactly as A-like as the no-flip run after τ.
    out = flip_against_no_flip(adherence_curves(NO_FLIP), adherence_curves(NO_FLIP), 4, "A", "B")
    assert out["paired"]["mean"] == 0.0 and out["paired"]["hi"] == 0.0


def test_without_a_no_flip_run_the_curves_and_changes_remain():
    out = flip_against_no_flip(adherence_curves(FLIP), {}, 4, "A", "B")
    assert out["paired"] is None and [r["no_flip_old"] for r in out["rows"]] == [None, None, None]
    assert out["new_change"]["mean"] == 1.0


def test_runs_without_common_times_after_tau_have_no_paired_result():
    out = flip_against_no_flip(adherence_curves(FLIP), adherence_curves(NO_FLIP), 8, "A", "B")
    assert [r["t"] for r in out["rows"]] == [8, 12] and out["paired"] is None


def test_identical_before_compares_answers_up_to_tau():
    assert identical_before(FLIP, NO_FLIP, 4)
    changed = [p.model_copy(update={"response": "other"}) if p.t == 4 else p for p in FLIP]
    assert not identical_before(changed, NO_FLIP, 4)
    assert identical_before(changed, NO_FLIP, 0)


def drift_record(t, rid, nll, nll_frozen, kl, kind="text"):
    return {"t": t, "id": rid, "kind": kind, "tokens": 10, "nll": nll, "nll_frozen": nll_frozen, "kl": kl}


def test_collateral_drift_averages_kl_and_absolute_nll_change_per_time():
    # t=8: items change NLL by +0.2 and -0.2: signed mean 0, |mean| .2; KL (0.1 + 0.3)/2 = .2.
    records = [drift_record(0, "a", 2.0, 2.0, 0.0), drift_record(0, "b", 3.0, 3.0, 0.0),
               drift_record(8, "a", 2.2, 2.0, 0.1), drift_record(8, "b", 2.8, 3.0, 0.3, "qa")]
    out = collateral_drift(records)
    assert out["measured"] and out["t"] == [0, 8] and out["items"] == 2
    assert out["kl"] == pytest.approx([0.0, 0.2])
    assert out["abs_nll_change"] == pytest.approx([0.0, 0.2])
    assert out["nll"] == pytest.approx([2.5, 2.5])  # the signed mean would hide the change


def test_collateral_drift_of_an_old_run_is_not_measured_and_bad_records_fail():
    assert collateral_drift(None)["measured"] is False
    assert collateral_drift([])["kl"] == []
    with pytest.raises(InputError, match="lacks"):
        collateral_drift([{"t": 0, "id": "a"}])
