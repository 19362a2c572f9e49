"""The scenario type of a schedule, in the one vocabulary `personas`, reports and the
leaderboard share: single, profile, flip, drop, revert, complementary.

Pure and dependency-free, so `simbench personas list` and the metrics name a schedule alike.
"""

from __future__ import annotations

from typing import Iterable, Mapping, Sequence

SCENARIOS = ("single", "profile", "flip", "drop", "revert", "complementary")
SCENARIO_WORDS = {
    "single": "one preference throughout",
    "profile": "several preferences, unchanged throughout",
    "flip": "a preference is replaced by its opposite",
    "drop": "a preference stops being wanted",
    "revert": "an earlier set of preferences comes back",
    "complementary": "preferences are added and none is removed",
}


def are_opposites(a: str, b: str, opposites: Mapping[str, str | None]) -> bool:
    """Whether `a` and `b` are opposites, read in both directions: a preference may name an
    opposite that names another one (`elaborate` -> `concise`, whose own is `detailed`)."""
    return opposites.get(a) == b or opposites.get(b) == a


def opposite_among(pref: str, candidates: Iterable[str], opposites: Mapping[str, str | None]) -> str | None:
    """The first of `candidates` (in their order) that is an opposite of `pref`, else None."""
    return next((c for c in candidates if are_opposites(pref, c, opposites)), None)


def scenario_of(phases: Sequence[Iterable[str]], opposites: Mapping[str, str | None]) -> str:
    """"single" | "profile" | "flip" | "revert" | "drop" | "complementary" from the phases'
    preference sets, in schedule order.

    One distinct active set: "single" (one preference) or "profile" (several). Otherwise the
    first that applies: "flip" (a preference's opposite becomes active after it), "revert" (a
    preference returns after leaving), "drop" (one leaves without its opposite arriving),
    "complementary" (every phase is a superset of the one before).
    """
    sets = [frozenset(phase) for phase in phases]
    if len(set(sets)) == 1:
        return "single" if len(sets[0]) == 1 else "profile"
    for k, current in enumerate(sets):
        later = frozenset().union(*sets[k + 1 :])
        if any(opposite_among(pref, later, opposites) for pref in current):
            return "flip"
    left: set[str] = set()
    for before, after in zip(sets, sets[1:]):
        if after & left:
            return "revert"
        left |= before - after
    return "drop" if left else "complementary"


def transition(
    earlier: Sequence[frozenset[str]], before: frozenset[str], after: frozenset[str],
    opposites: Mapping[str, str | None],
) -> str:
    """How one switch changes the preferences: "revert" (back to a set held before
    `before`), "flip" (one leaves as its opposite arrives), "add", "drop" or "shift"."""
    if any(previous == after for previous in earlier):
        return "revert"
    removed, added = before - after, after - before
    if any(opposite_among(a, added, opposites) for a in removed):
        return "flip"
    if not removed:
        return "add"
    if not added:
        return "drop"
    return "shift"


def transitions(phases: Sequence[Iterable[str]], opposites: Mapping[str, str | None]) -> tuple[str, ...]:
    """`transition` of every switch of the schedule, in order."""
    sets = [frozenset(phase) for phase in phases]
    return tuple(transition(sets[: k - 1], sets[k - 1], sets[k], opposites) for k in range(1, len(sets)))
