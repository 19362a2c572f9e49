"""R matrix, ACC, BWT, Chaudhry forgetting, min-ACC and general-capability drift."""

from __future__ import annotations

import numpy as np
import pytest

from simbench.errors import InputError
from simbench.metrics.curves import Curve, PhaseWindow
from simbench.metrics.forgetting import forgetting_metrics, general_drift

T = [0, 5, 10, 15, 20, 25, 30]
WINDOWS = [PhaseWindow(0, 0, 10, ("A",)), PhaseWindow(1, 10, 20, ("A", "B")),
           PhaseWindow(2, 20, 30, ("A", "B", "C"))]


def curve(t, s, pref) -> Curve:
    s = np.asarray(s, dtype=float)
    return Curve(pref, np.asarray(t), s, s[:, None], ("p",))


CURVES = {
    "A": curve(T, [0.1, 0.6, 0.9, 0.7, 0.8, 0.6, 0.7], "A"),
    "B": curve(T, [0.0, 0.0, 0.1, 0.5, 0.9, 0.9, 0.8], "B"),
    "C": curve(T, [0.2, 0.2, 0.2, 0.2, 0.3, 0.6, 0.9], "C"),
}
BASE = {"A": 0.1, "B": 0.0, "C": 0.2}


def test_r_matrix_rows_are_baseline_then_phase_ends():
    # Row 0 = b; rows 1..3 = s at t = 10, 20, 30.
    result = forgetting_metrics(CURVES, WINDOWS, BASE)
    assert result.preferences == ("A", "B", "C")
    assert result.learned_row == (1, 2, 3)
    assert result.matrix == pytest.approx(np.array([
        [0.1, 0.0, 0.2],
        [0.9, 0.1, 0.2],
        [0.8, 0.9, 0.3],
        [0.7, 0.8, 0.9],
    ]))


def test_acc_bwt_forgetting_and_min_acc_by_hand():
    result = forgetting_metrics(CURVES, WINDOWS, BASE)
    # ACC = (.7 + .8 + .9)/3 = .8
    assert result.acc == pytest.approx(0.8)
    # BWT over A, B: (R3A - R1A) = .7 - .9 = -.2; (R3B - R2B) = .8 - .9 = -.1 -> -.15
    assert result.bwt == pytest.approx(-0.15)
    # F: A: max(R1A, R2A) - R3A = .9 - .7 = .2; B: R2B - R3B = .9 - .8 = .1 -> .15
    assert result.forgetting == pytest.approx(0.15)
    # min after learned: A over t > 10: min(.7, .8, .6, .7) = .6; B over t > 20: min(.9, .8) = .8
    assert result.min_after_learned == pytest.approx({"A": 0.6, "B": 0.8})
    assert result.min_acc == pytest.approx(0.7)


def test_phase_end_without_probe_uses_last_earlier_probe():
    # Probes every 7: end of phase 0 (t=10) reads t=7, end of phase 1 (t=30) reads t=28.
    windows = [PhaseWindow(0, 0, 10, ("A",)), PhaseWindow(1, 10, 30, ("A", "B"))]
    curves = {"A": curve([0, 7, 14, 21, 28], [0.0, 0.4, 0.5, 0.6, 0.3], "A"),
              "B": curve([0, 7, 14, 21, 28], [0.0, 0.0, 0.2, 0.5, 0.7], "B")}
    result = forgetting_metrics(curves, windows, {"A": 0.0, "B": 0.0})
    assert result.matrix[1].tolist() == [0.4, 0.0]
    assert result.matrix[2].tolist() == [0.3, 0.7]
    # BWT = F's negative here: only A is earlier, R2A - R1A = .3 - .4 = -.1
    assert result.bwt == pytest.approx(-0.1)
    assert result.forgetting == pytest.approx(0.1)


def test_single_phase_has_accuracy_but_no_transfer_terms():
    result = forgetting_metrics({"A": CURVES["A"]}, [PhaseWindow(0, 0, 30, ("A",))], {"A": 0.1})
    assert result.acc == pytest.approx(0.7)
    assert np.isnan(result.bwt) and np.isnan(result.forgetting) and np.isnan(result.min_acc)


def test_general_drift_is_accuracy_change_since_t0():
    # t=0: 3/4 = .75, t=10: 2/4 = .5, t=20: 4/4 = 1 -> drift [0, -.25, .25].
    outcomes = {0: [1, 1, 1, 0], 10: [1, 0, 1, 0], 20: [1, 1, 1, 1]}
    records = [{"t": t, "id": f"q{i}", "correct": bool(ok)} for t, oks in outcomes.items() for i, ok in enumerate(oks)]
    drift = general_drift(records)
    assert drift.t.tolist() == [0, 10, 20]
    assert drift.accuracy == pytest.approx([0.75, 0.5, 1.0])
    assert drift.drift == pytest.approx([0.0, -0.25, 0.25])


def test_general_drift_needs_t0_and_complete_records():
    with pytest.raises(InputError, match="t=0"):
        general_drift([{"t": 5, "id": "q", "correct": True}])
    with pytest.raises(InputError, match="correct"):
        general_drift([{"t": 0, "id": "q"}])


def test_retained_accuracy_counts_only_questions_right_at_t0():
    # q1 right at t=0 and lost at t=5; q2 wrong at t=0 and right at t=5: accuracy stays .5
    # (signed drift 0) but retained accuracy drops from 1 to 0: the harm is visible.
    records = [{"t": 0, "id": "q1", "correct": True}, {"t": 0, "id": "q2", "correct": False},
               {"t": 5, "id": "q1", "correct": False}, {"t": 5, "id": "q2", "correct": True}]
    drift = general_drift(records).to_dict()
    assert drift["drift"] == [0.0, 0.0] and drift["retained"] == [1.0, 0.0]
    assert drift["right_at_start"] == 1


def test_retained_accuracy_is_nan_when_nothing_was_right_at_t0():
    records = [{"t": 0, "id": "q", "correct": False}, {"t": 5, "id": "q", "correct": True}]
    drift = general_drift(records)
    assert np.isnan(drift.retained).all() and drift.right_at_start == 0
