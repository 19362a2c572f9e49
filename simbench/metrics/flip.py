"""A flip's post-τ adherence beside the matching no-flip run (design.md §4).

A flip run (A, then opposite(A) from τ) and a no-flip run (A throughout) of the same learner,
seed and settings are the same run up to τ. After τ the flip run is told the opposite; if it
ends up as A-like as the no-flip run, it ignored what the feedback said (e.g. it keeps
getting shorter under "be more detailed" because any follow-up shortens answers). The
comparison pairs the two runs prompt by prompt at the probe times both have after τ.
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

import numpy as np

from simbench.metrics.curves import Curve, PhaseWindow
from simbench.metrics.paired import after_scores, paired_bootstrap, paired_differences
from simbench.metrics.unlearning import unlearning_events


def first_flip(windows: Sequence[PhaseWindow], opposites: Mapping[str, str]) -> tuple[int, str, str] | None:
    """(τ, old preference, new preference) of the schedule's first flip, or None."""
    for event in unlearning_events(windows, opposites):
        if event.kind == "flip" and event.replaced_by is not None:
            return windows[event.to_phase].start, event.preference, event.replaced_by
    return None


def flip_against_no_flip(
    flip: Mapping[str, Curve], no_flip: Mapping[str, Curve], tau: int, old: str, new: str,
    n_boot: int = 2000, seed: int = 0,
) -> dict[str, Any]:
    """Adherence to `old` and `new` after τ in both runs, and the paired flip - no-flip
    difference on `old` (negative: the flip run moved away from A, as it was told to).

    Rows are the probe times > τ that both runs probed; `paired` is the paired bootstrap
    over probe prompts of the per-prompt mean over those times (None without common times).
    """
    a, b = flip.get(old), no_flip.get(old)
    if a is None or b is None:
        return {"tau": tau, "old": old, "new": new, "rows": [], "paired": None}
    times = sorted(set(int(t) for t in a.t if t > tau) & set(int(t) for t in b.t if t > tau))
    rows = []
    for t in times:
        row = {"t": t, "flip_old": _at(a, t), "no_flip_old": _at(b, t)}
        row["flip_new"] = _at(flip[new], t) if new in flip else None
        row["no_flip_new"] = _at(no_flip[new], t) if new in no_flip else None
        rows.append(row)
    diffs = paired_differences(after_scores(a, tau, set(times)), after_scores(b, tau, set(times)))
    result = paired_bootstrap([diffs], n=n_boot, seed=seed) if times else None
    return {"tau": tau, "old": old, "new": new, "rows": rows,
            "paired": result.to_dict() if result is not None else None}


def _at(curve: Curve, t: int) -> float:
    index = np.nonzero(curve.t == t)[0]
    return float(curve.s[index[0]]) if index.size else float("nan")


def identical_before(flip_probes: Sequence[Any], no_flip_probes: Sequence[Any], tau: int) -> bool:
    """Whether both runs gave the same probe answers at every probe time <= τ (they should:
    same learner, seed and settings, and the same schedule until τ)."""

    def answers(probes: Sequence[Any]) -> dict[tuple[int, str], str]:
        return {(p.t, p.probe_id): p.response for p in probes if p.t <= tau}

    mine, theirs = answers(flip_probes), answers(no_flip_probes)
    return bool(mine) and mine == theirs
