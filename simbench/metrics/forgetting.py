"""Forgetting when preferences accumulate (A, then A+B, ...): the R matrix, ACC, BWT,
Chaudhry forgetting F and min-ACC (docs/metrics.md), plus drift of general capability."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable, Mapping, Sequence

import numpy as np

from simbench.errors import InputError
from simbench.metrics.curves import Curve, PhaseWindow, mean_finite


def accuracy_matrix(
    curves: Mapping[str, Curve], windows: Sequence[PhaseWindow], baselines: Mapping[str, float]
) -> tuple[tuple[str, ...], np.ndarray, np.ndarray]:
    """(preferences, learned_row, R) with R of shape (K+1, J) for K phases, J preferences.

    Columns are the schedule's preferences in order of introduction; R[0][j] = b_j and
    R[i][j] = s_j at the last probe with t <= end of phase i (phases counted from 1, so row
    i is schedule phase i-1). learned_row[j] is the row of the phase that introduced j.
    NaN marks a missing baseline, curve or probe.
    """
    preferences: list[str] = []
    learned: list[int] = []
    for window in windows:
        for pref in window.preferences:
            if pref not in preferences:
                preferences.append(pref)
                learned.append(window.index + 1)
    matrix = np.full((len(windows) + 1, len(preferences)), np.nan)
    for j, pref in enumerate(preferences):
        matrix[0, j] = baselines.get(pref, np.nan)
        curve = curves.get(pref)
        if curve is not None:
            for window in windows:
                matrix[window.index + 1, j] = curve.at_or_before(window.end)
    return tuple(preferences), np.asarray(learned, dtype=int), matrix


def average_accuracy(matrix: np.ndarray) -> float:
    """ACC = mean_j R[K][j]: adherence to every preference at the end of the episode."""
    return float(np.mean(matrix[-1])) if matrix.shape[1] else float("nan")


def _earlier(learned_row: np.ndarray, last_row: int) -> np.ndarray:
    """Columns j learned before the last phase (the j < K of the formulas)."""
    return np.nonzero(np.asarray(learned_row) < last_row)[0]


def backward_transfer(matrix: np.ndarray, learned_row: np.ndarray) -> float:
    """BWT = mean_{j<K} (R[K][j] - R[j][j]): negative when later phases erode earlier ones."""
    cols = _earlier(learned_row, matrix.shape[0] - 1)
    if cols.size == 0:
        return float("nan")
    return float(np.mean([matrix[-1, j] - matrix[learned_row[j], j] for j in cols]))


def forgetting_measure(matrix: np.ndarray, learned_row: np.ndarray) -> float:
    """Chaudhry F = mean_{j<K} (max_{l in [j, K-1]} R[l][j] - R[K][j])."""
    cols = _earlier(learned_row, matrix.shape[0] - 1)
    if cols.size == 0:
        return float("nan")
    last = matrix.shape[0] - 1
    return float(np.mean([matrix[learned_row[j] : last, j].max() - matrix[last, j] for j in cols]))


def min_after_learned(
    curves: Mapping[str, Curve], windows: Sequence[PhaseWindow],
    preferences: Sequence[str], learned_row: np.ndarray,
) -> dict[str, float]:
    """Lowest s_j at any probe after the phase that introduced j ended (t > its end).

    Only preferences introduced before the last phase have such probes. Following min-ACC of
    De Lange et al. (2023), the probe that closes j's own phase is not "after".
    """
    lows = {}
    for j in _earlier(learned_row, len(windows)):
        pref = preferences[j]
        curve = curves.get(pref)
        learned_end = windows[learned_row[j] - 1].end
        later = curve.s[curve.t > learned_end] if curve is not None else np.array([])
        later = later[~np.isnan(later)]
        lows[pref] = float(later.min()) if later.size else float("nan")
    return lows


@dataclass(frozen=True)
class ForgettingResult:
    """R matrix and the summaries over it for a complementary schedule."""

    preferences: tuple[str, ...]
    learned_row: tuple[int, ...]
    matrix: np.ndarray
    acc: float
    bwt: float
    forgetting: float
    min_acc: float
    min_after_learned: dict[str, float]

    def to_dict(self) -> dict[str, Any]:
        return {
            "preferences": list(self.preferences),
            "learned_row": list(self.learned_row),
            "R": self.matrix.tolist(),
            "acc": self.acc,
            "bwt": self.bwt,
            "forgetting": self.forgetting,
            "min_acc": self.min_acc,
            "min_after_learned": dict(self.min_after_learned),
        }


def forgetting_metrics(
    curves: Mapping[str, Curve], windows: Sequence[PhaseWindow], baselines: Mapping[str, float]
) -> ForgettingResult:
    """All forgetting metrics; min-ACC is the mean over earlier preferences of their lows."""
    preferences, learned, matrix = accuracy_matrix(curves, windows, baselines)
    lows = min_after_learned(curves, windows, preferences, learned)
    return ForgettingResult(
        preferences=preferences,
        learned_row=tuple(int(row) for row in learned),
        matrix=matrix,
        acc=average_accuracy(matrix),
        bwt=backward_transfer(matrix, learned),
        forgetting=forgetting_measure(matrix, learned),
        min_acc=mean_finite(list(lows.values())) if lows else float("nan"),
        min_after_learned=lows,
    )


@dataclass(frozen=True)
class GeneralDrift:
    """Accuracy on general-capability probes at each time, its change since t=0, and the
    accuracy on the questions answered correctly at t=0 (`retained`: 1 means nothing lost)."""

    t: np.ndarray
    accuracy: np.ndarray
    drift: np.ndarray
    retained: np.ndarray
    right_at_start: int

    def to_dict(self) -> dict[str, Any]:
        return {"t": self.t.tolist(), "accuracy": self.accuracy.tolist(), "drift": self.drift.tolist(),
                "abs_drift": np.abs(self.drift).tolist(), "retained": self.retained.tolist(),
                "right_at_start": self.right_at_start}


def general_drift(general_records: Iterable[Mapping[str, Any]]) -> GeneralDrift:
    """drift(t) = accuracy(t) - accuracy(0) over records {t, id, correct}, and retained(t) =
    accuracy at t on the questions right at t=0 (NaN when none was: a model that answers none
    of them can only gain, so accuracy alone cannot show harm).

    A repeated (t, id) keeps the later record, as for preference probes.
    """
    latest: dict[tuple[int, str], bool] = {}
    for i, record in enumerate(general_records):
        missing = [key for key in ("t", "id", "correct") if key not in record]
        if missing:
            raise InputError(f"general-capability record {i}", f"lacks {missing}", "each needs t, id, correct")
        latest[(int(record["t"]), str(record["id"]))] = bool(record["correct"])
    times = sorted({t for t, _ in latest})
    if 0 not in times:
        raise InputError(
            "general-capability records", f"no record at t=0 (times: {times[:5]})",
            "drift is measured against the probe before any interaction",
        )
    accuracy = np.array([np.mean([ok for (t, _), ok in latest.items() if t == time]) for time in times])
    right = {qid for (t, qid), ok in latest.items() if t == 0 and ok}
    retained = np.array([
        mean_finite([float(ok) for (t, qid), ok in latest.items() if t == time and qid in right])
        for time in times
    ])
    return GeneralDrift(np.asarray(times, dtype=int), accuracy, accuracy - accuracy[0], retained, len(right))
