"""One verdict on a flip, read from three intervals: the new wish's change from τ, the old
wish's change from τ, and the old wish against the matching no-flip run (metrics/flip.py).

Why a function of its own: the content test alone (old wish below the no-flip run) reads as
unlearning, yet a learner can grow the old habit more slowly than without the flip while the
old habit still rises and the new wish falls. The verdict only says "moved away" when the old
wish itself falls after τ and there was something to unlearn. Pure: no IO, no resampling.
"""

from __future__ import annotations

from typing import Any, Mapping

MOVED_AWAY = "moved away from the old wish"
LEARNED_NEW = "learned the new wish"
SLOWED_OLD = "slowed the old one"
NO_CHANGE = "no change"
VERDICTS = (MOVED_AWAY, LEARNED_NEW, SLOWED_OLD, NO_CHANGE)

Interval = Mapping[str, Any]  # a paired result's dict: "mean", "lo", "hi" (None: not measured)


def above_zero(result: Interval | None) -> bool:
    """Whether the interval lies wholly above 0."""
    return result is not None and result.get("lo") is not None and result["lo"] > 0


def below_zero(result: Interval | None) -> bool:
    """Whether the interval lies wholly below 0."""
    return result is not None and result.get("hi") is not None and result["hi"] < 0


def flip_verdict(new_change: Interval | None, old_change: Interval | None,
                 vs_no_flip: Interval | None, unlearning_applicable: bool) -> str:
    """The one verdict (a member of VERDICTS), strongest first:

    - MOVED_AWAY: the old wish falls from τ (s_old(end) - s_old(τ), interval below 0) and the
      unlearning row is applicable (the old wish had risen above the base, so falling means
      unlearning rather than noise around it);
    - LEARNED_NEW: the new wish rises from τ (interval above 0);
    - SLOWED_OLD: the old wish ends lower than in the no-flip run (interval below 0), while
      it still rises from τ or the new wish does not rise: weaker, not unlearned;
    - NO_CHANGE: none of these intervals excludes 0 in the direction that counts.
    """
    if below_zero(old_change) and unlearning_applicable:
        return MOVED_AWAY
    if above_zero(new_change):
        return LEARNED_NEW
    if below_zero(vs_no_flip) and (above_zero(old_change) or not above_zero(new_change)):
        return SLOWED_OLD
    return NO_CHANGE


def signed(result: Interval | None) -> str:
    """"+m [lo, hi]", or "not measured"."""
    if result is None or result.get("mean") is None:
        return "not measured"
    return f"{result['mean']:+.2f} [{result['lo']:+.2f}, {result['hi']:+.2f}]"


def direction(result: Interval | None) -> str:
    """"rises" / "falls" / "no clear change" by the interval."""
    if above_zero(result):
        return "rises"
    if below_zero(result):
        return "falls"
    return "no clear change" if result is not None else "not measured"


def verdict_words(verdict: str, old: str, new: str, new_change: Interval | None,
                  old_change: Interval | None, vs_no_flip: Interval | None,
                  unlearning_applicable: bool) -> str:
    """The verdict in one sentence with the numbers it rests on."""
    parts = [f"'{new}' from τ to the end {signed(new_change)} ({direction(new_change)})",
             f"'{old}' from τ to the end {signed(old_change)} ({direction(old_change)})"]
    if vs_no_flip is not None:
        parts.append(f"'{old}' after τ minus the no-flip run {signed(vs_no_flip)}")
    if not unlearning_applicable:
        parts.append("unlearning not applicable (nothing to unlearn)")
    why = {
        MOVED_AWAY: f"the flip run dropped '{old}' as the user asked",
        LEARNED_NEW: f"the flip run took up '{new}'",
        SLOWED_OLD: (f"the flip run has less '{old}' than the run never told otherwise, but did not "
                     f"drop it{' (it keeps rising)' if above_zero(old_change) else ''} nor take up '{new}'"),
        NO_CHANGE: f"no evidence that the flip run followed the new wish '{new}'",
    }[verdict]
    return f"verdict: {verdict}: {why} ({'; '.join(parts)})"
