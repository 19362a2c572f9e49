"""Adherence curves s_j(t) from probe records, phase windows over them, and a prompt bootstrap.

Every metric reads curves built here, so the rules for duplicates, missing checks and which
probe times belong to a phase live in one place.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Iterable, Sequence

import numpy as np

from simbench.errors import InputError
from simbench.logs.schema import PhaseInfo, ProbeRecord


@dataclass(frozen=True)
class Curve:
    """Adherence to one preference over probe times.

    `t` holds the sorted distinct probe times, `s[i]` the share of probe prompts passing at
    `t[i]`, and `passed[i, p]` is 1/0 for prompt `probe_ids[p]` at `t[i]` (NaN when that
    prompt was not probed or not checked then, or not scored: a judge-scored preference
    without a judge), so metrics can be bootstrapped over prompts.
    """

    preference: str
    t: np.ndarray
    s: np.ndarray
    passed: np.ndarray
    probe_ids: tuple[str, ...]

    def window(self, start: int, end: int) -> Curve:
        """The probes with start <= t <= end (both ends included)."""
        keep = (self.t >= start) & (self.t <= end)
        return Curve(self.preference, self.t[keep], self.s[keep], self.passed[keep], self.probe_ids)

    def at_or_before(self, t: int) -> float:
        """s at the last probe with time <= t; NaN when there is none."""
        earlier = np.nonzero(self.t <= t)[0]
        return float(self.s[earlier[-1]]) if earlier.size else float("nan")


def adherence_curves(probes: Iterable[ProbeRecord]) -> dict[str, Curve]:
    """One `Curve` per preference scored in any probe record (`not_scored` names the others).

    A (t, probe_id) pair seen twice keeps the later record: a resumed run re-probes the
    time it crashed at, and the later answer is the one the run continued from.
    """
    latest: dict[tuple[int, str], ProbeRecord] = {}
    for record in probes:
        latest[(record.t, record.probe_id)] = record
    times = sorted({t for t, _ in latest})
    probe_ids = tuple(sorted({pid for _, pid in latest}))
    preferences = sorted({pref for record in latest.values() for pref, o in record.checks.items() if o.passed is not None})
    row = {t: i for i, t in enumerate(times)}
    col = {pid: p for p, pid in enumerate(probe_ids)}
    curves = {}
    for pref in preferences:
        passed = np.full((len(times), len(probe_ids)), np.nan)
        for (t, pid), record in latest.items():
            outcome = record.checks.get(pref)
            if outcome is not None and outcome.passed is not None:  # None: not scored
                passed[row[t], col[pid]] = 1.0 if outcome.passed else 0.0
        curves[pref] = Curve(pref, np.asarray(times, dtype=int), row_means(passed), passed, probe_ids)
    return curves


def row_means(matrix: np.ndarray) -> np.ndarray:
    """Mean of each row over its non-NaN entries; NaN for an all-NaN row (no warning)."""
    counts = np.sum(~np.isnan(matrix), axis=1)
    sums = np.nansum(matrix, axis=1)
    out = np.full(matrix.shape[0], np.nan)
    np.divide(sums, counts, out=out, where=counts > 0)
    return out


def mean_finite(values: np.ndarray | Sequence[float]) -> float:
    """Mean of the non-NaN values; NaN when there are none (without numpy's warning)."""
    values = np.asarray(values, dtype=float)
    finite = values[~np.isnan(values)]
    # Values near the float limit (a hand-edited log) sum to inf: that mean is inf, written
    # as null like any non-finite number, not a numpy warning on stderr.
    with np.errstate(over="ignore"):
        return float(finite.mean()) if finite.size else float("nan")


def bootstrap_ci(
    per_prompt_values: np.ndarray | Sequence[float],
    n: int = 1000,
    seed: int = 0,
    level: float = 0.95,
    statistic: Callable[[np.ndarray], float] | None = None,
) -> tuple[float, float]:
    """Percentile bootstrap CI over probe prompts (axis 0 of `per_prompt_values`).

    Each of `n` resamples draws the prompts with replacement and evaluates `statistic`
    (default: the mean of the non-NaN values); returns the (1-level)/2 and (1+level)/2
    percentiles. Pass a 2-D (prompts x times) array and a statistic to bootstrap a metric
    that needs the whole curve, e.g. AULC. Returns (NaN, NaN) when there are no prompts.
    """
    values = np.asarray(per_prompt_values, dtype=float)
    if values.ndim == 0 or values.shape[0] == 0:
        return float("nan"), float("nan")
    if n < 1 or not 0.0 < level < 1.0:
        raise InputError("bootstrap_ci", f"needs n >= 1 and 0 < level < 1, got n={n}, level={level}")
    rng = np.random.default_rng(seed)
    draws = rng.integers(0, values.shape[0], size=(n, values.shape[0]))
    if statistic is None:
        flat = values.reshape(values.shape[0], -1)
        resampled = flat[draws]  # (n, prompts, rest)
        stats = row_means(resampled.reshape(n, -1))
    else:
        stats = np.array([statistic(values[idx]) for idx in draws], dtype=float)
    stats = stats[~np.isnan(stats)]
    if stats.size == 0:
        return float("nan"), float("nan")
    tail = (1.0 - level) / 2.0 * 100.0
    lo, hi = np.percentile(stats, [tail, 100.0 - tail])
    return float(lo), float(hi)


@dataclass(frozen=True)
class PhaseWindow:
    """Phase `index` of a schedule: its preferences are active for interactions start..end-1.

    A probe at time t has seen t interactions, so the phase's probes are start <= t <= end:
    the probe at `start` shows where the phase began, the one at `end` its final state
    (that probe is also the next phase's first). `end` is the next phase's start, or the
    episode length T for the last phase.
    """

    index: int
    start: int
    end: int
    preferences: tuple[str, ...]

    @property
    def length(self) -> int:
        return self.end - self.start


def phase_windows(schedule: Sequence[PhaseInfo], interactions: int) -> list[PhaseWindow]:
    """The schedule's phases as windows; fails on unordered phases or one beyond T."""
    starts = [phase.at for phase in schedule]
    if not schedule:
        raise InputError("persona.schedule", "is empty", "give at least one phase")
    if any(b <= a for a, b in zip(starts, starts[1:])) or starts[0] < 0:
        raise InputError("persona.schedule", f"phase starts {starts} are not strictly increasing from >= 0")
    if starts[-1] >= interactions:
        raise InputError(
            "persona.schedule",
            f"phase at {starts[-1]} starts at or after the episode length {interactions}",
        )
    ends = starts[1:] + [interactions]
    return [
        PhaseWindow(k, phase.at, end, tuple(phase.preferences))
        for k, (phase, end) in enumerate(zip(schedule, ends))
    ]


def not_scored(probes: Iterable[ProbeRecord]) -> list[str]:
    """Preferences that appear in the checks but were never scored (judge-scored, no judge):
    reports name them instead of showing a curve."""
    seen: dict[str, bool] = {}
    for record in probes:
        for pref, outcome in record.checks.items():
            seen[pref] = seen.get(pref, False) or outcome.passed is not None
    return sorted(pref for pref, scored in seen.items() if not scored)
