"""What a flip did: the new and the old wish's adherence from τ, and the old wish beside the
matching no-flip run (docs/metrics.md); metrics/flip_verdict.py reads them as one verdict.

A flip run (A, then opposite(A) from τ) and a no-flip run (A throughout) of the same learner,
seed and settings are the same run up to τ. After τ the flip run is told the opposite; if it
ends up as A-like as the no-flip run, it ignored what the feedback said (e.g. it keeps
getting shorter under "be more detailed" because any follow-up shortens answers). The
comparison pairs the two runs prompt by prompt at the probe times both have after τ. It
only says the old wish is weaker than without the flip: the old wish may still be rising
(grown more slowly) while the new one falls, so the changes from τ are reported beside it.
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

import numpy as np

from simbench.metrics.curves import Curve, PhaseWindow
from simbench.metrics.paired import after_scores, paired_differences, paired_interval
from simbench.metrics.unlearning import unlearning_events


def first_flip(windows: Sequence[PhaseWindow], opposites: Mapping[str, str]) -> tuple[int, str, str] | None:
    """(τ, old preference, new preference) of the schedule's first flip, or None."""
    for event in unlearning_events(windows, opposites):
        if event.kind == "flip" and event.replaced_by is not None:
            return windows[event.to_phase].start, event.preference, event.replaced_by
    return None


def flip_against_no_flip(
    flip: Mapping[str, Curve], no_flip: Mapping[str, Curve], tau: int, old: str, new: str,
    end: int | None = None,
) -> dict[str, Any]:
    """What a flip did, from the flip run's curves and (when given) the no-flip run's.

    `rows`: adherence to `old` and `new` at the flip run's probe at τ (the last one at or
    before it, answered under the old wish) and every later one up to `end` (default: the
    last probe; pass the new phase's end when another phase follows), beside the no-flip run's
    (None where it has no such probe). `new_change` / `old_change`: s(end) - s(τ) of each
    wish in the flip run, paired by probe prompt (metrics/paired.py; None without both probes).
    `paired`: the content test, flip minus no-flip on `old` over the probe times > τ both
    runs probed, per-prompt means (negative: less of the old wish than had the user never
    asked otherwise; it says nothing on whether the old wish fell). `no_flip` may be {}.
    """
    a, b = flip.get(old), no_flip.get(old)
    out: dict[str, Any] = {"tau": tau, "old": old, "new": new, "rows": [], "paired": None,
                           "new_change": change_from_tau(flip.get(new), tau, end),
                           "old_change": change_from_tau(a, tau, end)}
    if a is None:
        return out
    start = tau_probe(a, tau)
    for t in (int(t) for t in a.t if start is not None and t >= start and (end is None or t <= end)):
        out["rows"].append({"t": t, "flip_old": _at(a, t), "no_flip_old": _at_or_none(b, t),
                            "flip_new": _at_or_none(flip.get(new), t),
                            "no_flip_new": _at_or_none(no_flip.get(new), t)})
    if b is None:
        return out
    times = sorted(set(int(t) for t in a.t if t > tau and (end is None or t <= end))
                   & set(int(t) for t in b.t if t > tau))
    diffs = paired_differences(after_scores(a, tau, set(times)), after_scores(b, tau, set(times)))
    result = paired_interval([diffs]) if times else None
    out["paired"] = result.to_dict() if result is not None else None
    return out


def tau_probe(curve: Curve, tau: int) -> int | None:
    """The probe time that stands for τ: the last one at or before it (answered under the old
    wish with the pre-flip weights, as unlearning's s(τ)); None when there is none."""
    earlier = [int(t) for t in curve.t if t <= tau]
    return earlier[-1] if earlier else None


def change_scores(curve: Curve, tau: int, end: int | None = None) -> tuple[dict[str, float], dict[str, float]] | None:
    """Per probe prompt: its 0/1 outcome at the last probe up to `end` (default: the curve's
    last) and at the τ probe, the two sides of s(end) - s(τ); None when the curve has no
    probe in (τ, end] or none at or before τ."""
    start = tau_probe(curve, tau)
    later = [int(t) for t in curve.t if t > tau and (end is None or t <= end)]
    if start is None or not later:
        return None
    return after_scores(curve, later[-1] - 1, {later[-1]}), after_scores(curve, start - 1, {start})


def change_from_tau(curve: Curve | None, tau: int, end: int | None = None) -> dict[str, Any] | None:
    """s(end) - s(τ) of one wish in one run, paired by probe prompt, with its interval."""
    sides = change_scores(curve, tau, end) if curve is not None else None
    if sides is None:
        return None
    result = paired_interval([paired_differences(*sides)])
    return result.to_dict() if result is not None else None


def _at(curve: Curve, t: int) -> float:
    index = np.nonzero(curve.t == t)[0]
    return float(curve.s[index[0]]) if index.size else float("nan")


def _at_or_none(curve: Curve | None, t: int) -> float | None:
    value = _at(curve, t) if curve is not None else float("nan")
    return None if np.isnan(value) else value


def identical_before(flip_probes: Sequence[Any], no_flip_probes: Sequence[Any], tau: int) -> bool:
    """Whether both runs gave the same probe answers at every probe time <= τ (they should:
    same learner, seed and settings, and the same schedule until τ)."""

    def answers(probes: Sequence[Any]) -> dict[tuple[int, str], str]:
        return {(p.t, p.probe_id): p.response for p in probes if p.t <= tau}

    mine, theirs = answers(flip_probes), answers(no_flip_probes)
    return bool(mine) and mine == theirs
