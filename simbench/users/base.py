"""The `UserSimulator` Protocol, its `FollowUp` result, its build context and the registry.

A user simulator is one class with three methods: `from_config` builds it from a
`UserContext` (the `--user-option` values and the persona), `follow_up` answers one turn and
`follow_up_many` answers one update batch of turns (an LLM user sends those concurrently).
Each request carries its own seeded rng, so an answer never depends on which batch it was in.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any, Protocol, Sequence

from simbench.errors import InputError
from simbench.persona.preference import Preference
from simbench.registry import Registry
from simbench.scoring import CHECKERS_ONLY, Scorer


@dataclass(frozen=True)
class FollowUp:
    """The user's next message. `violated` lists preference ids the user reacted to."""

    text: str
    violated: tuple[str, ...] = ()
    meta: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class FollowUpRequest:
    """One turn to answer: the user's last message, the policy's response, the preferences
    active now, and the rng this turn's draws come from (derived from run seed, t, turn)."""

    prompt: str
    response: str
    active: Sequence[Preference]
    rng: random.Random


@dataclass(frozen=True)
class UserContext:
    """What a user simulator may be built from."""

    options: dict[str, Any]
    """The `--user-option KEY=VALUE` settings (base_url, model, temperature, ...)."""
    background: str = ""
    """The persona's background, for users that role-play it (LLM users)."""
    irrelevant_rate: float = 0.0
    """The persona's share of off-topic follow-ups; the built user must honour it."""
    model: str = ""
    """The run's policy model: the default model of an in-process (`local`) user."""
    device: str = "cpu"
    """The run's torch device."""
    scorer: Scorer = CHECKERS_ONLY
    """Decides whether a response keeps each wish: checkers, and the run's judge for rubric
    preferences (without one, a rubric wish is not scored and the user does not react to it)."""


class UserSimulator(Protocol):
    """Reads (prompt, response) under the active preferences and answers as the user."""

    @classmethod
    def from_config(cls, context: UserContext) -> UserSimulator:
        """Build the user from `context`; a bad option raises TypeError/ValueError/InputError."""
        ...

    @classmethod
    def check_options(cls, context: UserContext) -> None:
        """Raise TypeError/ValueError/InputError for bad options without loading a model or
        sending a request (called while validating a run)."""
        ...

    def follow_up(
        self,
        prompt: str,
        response: str,
        active: Sequence[Preference],
        rng: random.Random,
    ) -> FollowUp: ...

    def follow_up_many(self, requests: Sequence[FollowUpRequest]) -> list[FollowUp]:
        """The follow-ups of one batch, in order; each equal to `follow_up` of its request."""
        ...


def follow_up_each(user: Any, requests: Sequence[FollowUpRequest]) -> list[FollowUp]:
    """`follow_up_many` for users that answer one turn at a time."""
    return [user.follow_up(r.prompt, r.response, r.active, r.rng) for r in requests]


USERS: Registry = Registry("user simulator", flag="--user")


def check_minimums(where: str, **settings: tuple[float, float]) -> None:
    """InputError naming `where.<name>` for the first setting below its minimum.

    `check_minimums("user", temperature=(t, 0), max_tokens=(n, 1))`: each value is (given, least allowed)."""
    for name, (value, least) in settings.items():
        if value < least:
            raise InputError(f"{where}.{name}", f"must be >= {least}, got {value!r}")
