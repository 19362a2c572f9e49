"""What the simulated user wants at interaction t: a pure function of the persona's schedule.

Phase k covers interactions [at_k, at_{k+1}); the last phase also covers t >= interactions,
so a probe after the final interaction sees the final preferences.
"""

from __future__ import annotations

import bisect
from typing import TYPE_CHECKING

from simbench.persona.scenario import scenario_of, transitions

if TYPE_CHECKING:
    from simbench.persona.preference import Preference
    from simbench.persona.spec import Persona


class PersonaEngine:
    """Answers schedule questions about one validated persona; holds no mutable state."""

    def __init__(self, persona: Persona) -> None:
        self.persona = persona
        self._starts = [phase.at for phase in persona.schedule]
        self._phases = tuple(tuple(phase.preferences) for phase in persona.schedule)

    def phase_index(self, t: int) -> int:
        """Index of the phase active at interaction `t` (0-based)."""
        if t < 0:
            raise ValueError(f"interaction index must be >= 0, got {t}")
        return bisect.bisect_right(self._starts, t) - 1

    def active(self, t: int) -> tuple[str, ...]:
        """Ids of the preferences active at interaction `t`, in the order the file lists them."""
        return self._phases[self.phase_index(t)]

    def active_preferences(self, t: int) -> tuple[Preference, ...]:
        """The `Preference` objects active at interaction `t`."""
        return tuple(self.persona.preference(pid) for pid in self.active(t))

    def phase_bounds(self) -> list[tuple[int, int]]:
        """(start, end) of every phase, end exclusive; the last ends at `interactions`."""
        ends = self._starts[1:] + [self.persona.interactions]
        return list(zip(self._starts, ends))

    def switch_points(self) -> tuple[int, ...]:
        """Interactions at which the active preferences change (every phase start after 0)."""
        return tuple(self._starts[1:])

    def ever(self) -> tuple[str, ...]:
        """Every preference the persona ever holds, in order of first appearance."""
        seen: dict[str, None] = {}
        for phase in self._phases:
            seen.update(dict.fromkeys(phase))
        return tuple(seen)

    def transitions(self) -> tuple[str, ...]:
        """How each switch changes the preferences: 'flip', 'add', 'drop', 'revert' or 'shift'."""
        return transitions(self._phases, self._opposites())

    def scenario(self) -> str:
        """The schedule's scenario type in the words reports and the leaderboard use
        (persona/scenario.py): single, profile, flip, drop, revert or complementary."""
        return scenario_of(self._phases, self._opposites())

    def _opposites(self) -> dict[str, str | None]:
        return {pid: self.persona.preference(pid).opposite for pid in self.ever()}
