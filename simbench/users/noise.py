"""Irrelevant follow-ups for any user backend: a noisy persona stays noisy with an LLM user.

With probability `rate` (drawn from the call's rng, so runs replay) the user sends an
unrelated message from the rules user's pool instead of asking the wrapped backend.
"""

from __future__ import annotations

import random
from typing import Any, Sequence

from simbench.persona.preference import Preference
from simbench.users.base import FollowUp, FollowUpRequest, UserSimulator
from simbench.users.rules import unrelated_message


class NoisyUser:
    """Wraps a `UserSimulator`; a share `rate` of follow-ups is unrelated to the response."""

    def __init__(self, inner: UserSimulator, rate: float) -> None:
        if not 0.0 <= rate <= 1.0:
            raise ValueError(f"rate must be in [0, 1], got {rate}")
        self.inner = inner
        self.rate = rate

    @classmethod
    def wrap(cls, inner: Any, rate: float) -> Any:
        """`inner` made noisy at `rate`; `inner` itself when the persona is never off-topic."""
        return cls(inner, rate) if rate > 0 else inner

    def follow_up(
        self, prompt: str, response: str, active: Sequence[Preference], rng: random.Random
    ) -> FollowUp:
        if rng.random() < self.rate:
            return self._irrelevant(rng)
        return self.inner.follow_up(prompt, response, active, rng)

    def follow_up_many(self, requests: Sequence[FollowUpRequest]) -> list[FollowUp]:
        """Each request's noise coin first (from its own rng, as `follow_up` draws it); the
        rest go to the wrapped user as one batch."""
        noisy = [r.rng.random() < self.rate for r in requests]
        answered = iter(self.inner.follow_up_many([r for r, off in zip(requests, noisy) if not off]))
        return [self._irrelevant(r.rng) if off else next(answered) for r, off in zip(requests, noisy)]

    @staticmethod
    def _irrelevant(rng: random.Random) -> FollowUp:
        meta: dict[str, Any] = {"irrelevant": True, "kind": "irrelevant"}
        return FollowUp(unrelated_message(rng), (), meta)
