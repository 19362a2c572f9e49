"""The `UserSimulator` Protocol, its `FollowUp` result, and the registry of backends."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any, Protocol, Sequence

from simbench.persona.preference import Preference
from simbench.registry import Registry


@dataclass(frozen=True)
class FollowUp:
    """The user's next message. `violated` lists preference ids the user reacted to."""

    text: str
    violated: tuple[str, ...] = ()
    meta: dict[str, Any] = field(default_factory=dict)


class UserSimulator(Protocol):
    """Reads (prompt, response) under the active preferences and answers as the user."""

    def follow_up(
        self,
        prompt: str,
        response: str,
        active: Sequence[Preference],
        rng: random.Random,
    ) -> FollowUp: ...


USERS: Registry = Registry("user simulator", flag="--user")
