"""Irrelevant follow-ups for any user backend: a noisy persona stays noisy with an LLM user.

With probability `rate` (drawn from the call's rng, so runs replay) the user sends an
unrelated message from the rules user's pool instead of asking the wrapped backend.
"""

from __future__ import annotations

import random
from typing import Any, Sequence

from simbench.persona.preference import Preference
from simbench.users.base import FollowUp, UserSimulator
from simbench.users.rules import unrelated_message


class NoisyUser:
    """Wraps a `UserSimulator`; a share `rate` of follow-ups is unrelated to the response."""

    def __init__(self, inner: UserSimulator, rate: float) -> None:
        if not 0.0 <= rate <= 1.0:
            raise ValueError(f"rate must be in [0, 1], got {rate}")
        self.inner = inner
        self.rate = rate

    def follow_up(
        self, prompt: str, response: str, active: Sequence[Preference], rng: random.Random
    ) -> FollowUp:
        if rng.random() < self.rate:
            meta: dict[str, Any] = {"irrelevant": True, "kind": "irrelevant"}
            return FollowUp(unrelated_message(rng), (), meta)
        return self.inner.follow_up(prompt, response, active, rng)
