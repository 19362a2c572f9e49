"""Unlearning a preference the user stopped holding (flipped to its opposite, or dropped):
U(t), sustained steps-to-unlearn and perseveration area (docs/metrics.md).

The probe at the change point τ is the reference s(τ): it was answered under the old phase
with the pre-change weights, so only probes strictly after τ measure unlearning.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping, Sequence

import numpy as np

from simbench.metrics.adaptation import (
    SUSTAIN,
    THRESHOLD,
    FlaggedResult,
    has_headroom,
    last_or_nan,
    probe_count_flags,
    sustained_steps,
)
from simbench.metrics.curves import Curve, PhaseWindow, mean_finite
from simbench.persona.scenario import opposite_among

# Below this rise of s(τ) over b there is nothing to unlearn: the row is "not applicable"
# (one probe prompt of twelve is 0.083, so a single lucky answer does not make a row).
MIN_TO_UNLEARN = 0.1
NOTHING_TO_UNLEARN = "nothing_to_unlearn"


def unlearning_score(s: np.ndarray | float, s_at_change: float, b: float) -> np.ndarray:
    """U = clip((s(τ) - s(t)) / (s(τ) - b), 0, 1): 0 while the old habit holds, 1 back at base.

    When s(τ) <= b the learner never rose above the frozen model, so there is nothing to
    unlearn and the ratio is undefined; U is then 1 where s <= b and 0 above it (callers
    flag such rows `nothing_to_unlearn` and leave them out of means). NaN inputs give NaN.
    """
    s = np.asarray(s, dtype=float)
    if np.isnan(s_at_change) or np.isnan(b):
        return np.full(s.shape, np.nan)
    if has_headroom(b, s_at_change):
        u = np.clip((s_at_change - s) / (s_at_change - b), 0.0, 1.0)
    else:
        u = np.where(s <= b, 1.0, 0.0)
    return np.where(np.isnan(s), np.nan, u)


@dataclass(frozen=True)
class UnlearningEvent:
    """Preference `preference` active in phase `from_phase` and gone in `to_phase`.

    `kind` is "flip" when its opposite (`replaced_by`) is active in `to_phase`, else "drop".
    """

    preference: str
    from_phase: int
    to_phase: int
    kind: str
    replaced_by: str | None


def unlearning_events(
    windows: Sequence[PhaseWindow], opposites: Mapping[str, str]
) -> list[UnlearningEvent]:
    """Every preference leaving the active set at a phase boundary, in schedule order."""
    events = []
    for before, after in zip(windows, windows[1:]):
        for pref in before.preferences:
            if pref in after.preferences:
                continue
            opposite = opposite_among(pref, sorted(after.preferences), opposites)
            flipped = opposite is not None
            events.append(
                UnlearningEvent(pref, before.index, after.index, "flip" if flipped else "drop",
                                opposite if flipped else None)
            )
    return events


@dataclass(frozen=True)
class UnlearningResult(FlaggedResult):
    """How fast the old preference faded after it stopped being wanted at `start` (= τ)."""

    preference: str
    kind: str
    replaced_by: str | None
    phase: int
    start: int
    end: int
    b: float
    s_at_change: float
    n_probes: int
    steps_to_unlearn: int | None
    censored: bool
    perseveration: float
    final_s: float
    final_u: float
    flags: tuple[str, ...]


def unlearning_in_phase(
    curve: Curve, event: UnlearningEvent, window: PhaseWindow, b: float,
    threshold: float = THRESHOLD, sustain: int = SUSTAIN,
) -> UnlearningResult:
    """Unlearning metrics of `curve` (the old preference) over the probes of `window`.

    s(τ) is the old preference's adherence at the last probe at or before the change;
    U is scored at the probes strictly after τ (the one at τ is s(τ) itself, U = 0 by
    definition, and counting it would keep perseveration >= 1/n). Steps-to-unlearn is the
    first t - τ with U >= threshold held for `sustain` probes (censored at the phase length);
    perseveration = mean(1 - U) over those probes. When s(τ) - b < `MIN_TO_UNLEARN` the row
    is flagged `nothing_to_unlearn` and its steps, perseveration and final U are NaN: a
    learner that never took up the preference must not score the "best" unlearning.
    """
    inside = curve.window(window.start + 1, window.end)
    s_at_change = curve.at_or_before(window.start)
    u = unlearning_score(inside.s, s_at_change, b)
    steps: int | None
    steps, censored = sustained_steps(inside.t, u, window.start, window.length, threshold, sustain)
    flags: list[str] = []
    if np.isnan(s_at_change):
        flags.append("no_probe_before_change")
    elif not np.isnan(b) and s_at_change - b < MIN_TO_UNLEARN:
        flags.append(NOTHING_TO_UNLEARN)
    if NOTHING_TO_UNLEARN in flags:
        u = np.full(u.shape, np.nan)
        steps, censored = None, False
    elif censored:
        flags.append("censored")
    flags.extend(probe_count_flags(inside.t.size, sustain))
    return UnlearningResult(
        preference=curve.preference,
        kind=event.kind,
        replaced_by=event.replaced_by,
        phase=window.index,
        start=window.start,
        end=window.end,
        b=float(b),
        s_at_change=float(s_at_change),
        n_probes=int(inside.t.size),
        steps_to_unlearn=steps,
        censored=censored,
        perseveration=mean_finite(1.0 - u),
        final_s=last_or_nan(inside.s),
        final_u=last_or_nan(u),
        flags=tuple(flags),
    )
