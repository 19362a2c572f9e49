"""The `openai` simulated user: any OpenAI-compatible endpoint writes the follow-up text.

The LLM only phrases the message; the preferences' checkers still decide `violated`, so
the ground truth never depends on the simulator model's judgement.
"""

from __future__ import annotations

import random
from typing import Sequence

from simbench.option_types import checked_options
from simbench.persona.preference import Preference
from simbench.scoring import CHECKERS_ONLY, Scorer
from simbench.users.base import FollowUp, FollowUpRequest, UserContext, check_minimums
from simbench.users.endpoint import ChatEndpoint, Completion, RetryPolicy, map_bounded
from simbench.users.gate import DEFAULT_ATTEMPTS, gated, retry_temperature
from simbench.users.noise import NoisyUser
from simbench.users.prompting import CheckedTurn, checked_turn, clean_follow_up

FollowUpItem = tuple[str, str, Sequence[Preference]]  # (prompt, response, active preferences)


class OpenAIUser:
    """A simulated user served by an OpenAI-compatible chat endpoint (OpenAI, vLLM, llama.cpp).

    `seed`: None sends no seed (for endpoints that reject it); otherwise each request's seed
    mixes it with a draw from the caller's rng, so a run replays. `show_checks` tells the
    LLM which wishes the answer breaks (the checkers' verdicts), so it phrases feedback
    instead of judging; turn it off to let a strong model judge on its own.
    `gate_attempts`: tries per follow-up through the quality gate (users/gate.py); retries
    sample at temperature >= 0.7 under a shifted seed, and the last try is kept, flagged in
    `meta["gate"]`, when none passes.
    """

    def __init__(
        self,
        base_url: str,
        model: str,
        api_key_env: str | None = "OPENAI_API_KEY",
        temperature: float = 0.7,
        seed: int | None = 0,
        timeout: float = 30.0,
        max_attempts: int = 5,
        backoff_base: float = 0.5,
        backoff_max: float = 8.0,
        concurrency: int = 4,
        background: str = "",
        max_tokens: int = 64,
        show_checks: bool = True,
        gate_attempts: int = DEFAULT_ATTEMPTS,
    ) -> None:
        check_minimums("user", temperature=(temperature, 0), concurrency=(concurrency, 1),
                       max_tokens=(max_tokens, 1), gate_attempts=(gate_attempts, 1))
        retry = RetryPolicy(max_attempts=max_attempts, backoff_base=backoff_base, backoff_max=backoff_max)
        self.endpoint = ChatEndpoint(base_url, model, api_key_env, timeout, retry, where="user")
        self.temperature = temperature
        self.seed = seed
        self.concurrency = concurrency
        self.background = background
        self.max_tokens = max_tokens
        self.show_checks = show_checks
        self.gate_attempts = gate_attempts
        self.scorer: Scorer = CHECKERS_ONLY  # from_config hands over the run's

    def __repr__(self) -> str:
        return (
            f"OpenAIUser(endpoint={self.endpoint!r}, temperature={self.temperature}, seed={self.seed}, "
            f"concurrency={self.concurrency}, max_tokens={self.max_tokens}, show_checks={self.show_checks}, "
            f"gate_attempts={self.gate_attempts})"
        )

    @classmethod
    def from_config(cls, context: UserContext) -> "OpenAIUser | NoisyUser":
        """The endpoint user role-playing the persona's background, noisy at its rate."""
        options = checked_options("--user-option", "user 'openai'", cls.__init__, context.options)
        user = cls(**{"background": context.background, **options})
        user.scorer = context.scorer
        return NoisyUser.wrap(user, context.irrelevant_rate)

    @classmethod
    def check_options(cls, context: UserContext) -> None:
        """Built and dropped: no request is sent, a missing key variable fails here."""
        cls.from_config(context)

    def follow_up(
        self,
        prompt: str,
        response: str,
        active: Sequence[Preference],
        rng: random.Random,
    ) -> FollowUp:
        return self._one((prompt, response, active), self._request_seed(rng))

    def follow_up_many(self, requests: Sequence[FollowUpRequest]) -> list[FollowUp]:
        """Follow-ups for a batch, `concurrency` requests at a time, in the order of `requests`.

        Seeds are drawn from each request's rng up front, so the result does not depend on
        which request the server finishes first.
        """
        pairs = [((r.prompt, r.response, r.active), self._request_seed(r.rng)) for r in requests]
        return map_bounded(lambda pair: self._one(*pair), pairs, self.concurrency)

    def _request_seed(self, rng: random.Random) -> int | None:
        draw = rng.randrange(2**31)  # drawn even without a seed, so the rng stream is the same
        return None if self.seed is None else (self.seed * 1_000_003 + draw) % 2**31

    def _one(self, item: FollowUpItem, seed: int | None) -> FollowUp:
        prompt, response, active = item
        turn = checked_turn(prompt, response, active, self.background, self.show_checks, self.scorer)

        def write(attempt: int) -> tuple[str, Completion]:
            completion = self.endpoint.complete(
                turn.messages,
                temperature=retry_temperature(self.temperature, attempt),
                max_tokens=self.max_tokens,
                seed=None if seed is None else (seed + attempt) % 2**31,
                postprocess=clean_follow_up,
                resample_temperature=retry_temperature(self.temperature, 1),
            )
            return completion.text, completion

        result = gated(write, response, active, turn.violated, self.gate_attempts)
        return FollowUp(result.text, turn.violated, {**_meta(turn, result.extra, seed), "gate": result.meta()})


def _meta(turn: CheckedTurn, completion: Completion, seed: int | None) -> dict:
    return turn.meta(
        model=completion.model,
        served_model=completion.served_model,
        prompt_hash=completion.prompt_hash,
        attempts=completion.attempts,
        seed=seed,
        seconds=round(completion.seconds, 4),
    )
