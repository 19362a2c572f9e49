"""The `PolicyBackend` Protocol, its request/output types, and the registry of backends."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, Sequence

from simbench.registry import Registry


@dataclass(frozen=True)
class GenerationRequest:
    """One chat to continue. `messages` are {role, content} dicts ending with a user turn."""

    messages: tuple[dict[str, str], ...]
    seed: int
    greedy: bool = False


@dataclass(frozen=True)
class Generation:
    """The assistant's reply: its text and the exact token ids generated (no re-tokenising)."""

    text: str
    token_ids: tuple[int, ...]
    finish_reason: str  # "stop" (end-of-turn token) or "length" (max new tokens)


def with_system_prompt(
    messages: Sequence[dict[str, str]], system_prompt: str | None
) -> list[dict[str, str]]:
    """`messages`, led by `system_prompt` unless they already carry their own system message."""
    messages = [dict(m) for m in messages]
    if system_prompt is not None and (not messages or messages[0].get("role") != "system"):
        messages.insert(0, {"role": "system", "content": system_prompt})
    return messages


class PolicyBackend(Protocol):
    """Generates replies for a batch of requests with the policy's current weights."""

    def generate(self, requests: Sequence[GenerationRequest]) -> list[Generation]: ...


BACKENDS: Registry = Registry("policy backend", flag="--backend")
