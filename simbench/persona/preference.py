"""The `Preference` and `CheckResult` types every persona, user simulator and probe shares."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Iterable, Mapping, Protocol


@dataclass(frozen=True)
class CheckResult:
    """Whether a response satisfies a preference, and what violated it (empty when passed)."""

    passed: bool
    evidence: str = ""


class Checker(Protocol):
    """A pure function deciding whether `text` satisfies a preference."""

    def __call__(self, text: str) -> CheckResult: ...


@dataclass(frozen=True)
class Preference:
    """A style preference a simulated user holds, with a verifiable checker.

    `description` is what the user wants, written for a simulated user's prompt
    ("Answers without any emojis."). `complaints` are varied natural follow-ups the user
    sends when a response violates it; they say what to do, not only what to avoid.
    `praise` are follow-ups when a response satisfies it (optional). `min_tokens` is the
    fewest generated tokens a passing answer needs (every counted word is at least one
    token); 0 when an answer of any length can pass.
    """

    id: str
    description: str
    checker: Callable[[str], CheckResult]
    opposite: str | None = None
    complaints: tuple[str, ...] = ()
    praise: tuple[str, ...] = field(default=())
    min_tokens: int = 0

    def check(self, text: str) -> CheckResult:
        return self.checker(text)


def token_floors(preferences: Iterable[Preference]) -> dict[str, int]:
    """{id: min_tokens} of the preferences that need a minimum answer length."""
    return {p.id: p.min_tokens for p in preferences if p.min_tokens}


def beyond_cap(floors: Mapping[str, int], max_new_tokens: int) -> list[str]:
    """Ids in `floors` that no answer of at most `max_new_tokens` tokens can pass."""
    return [pid for pid, floor in floors.items() if floor > max_new_tokens]


def token_cap_warnings(floors: Mapping[str, int], max_new_tokens: int) -> list[str]:
    """One line per preference that no answer of at most `max_new_tokens` tokens can pass."""
    return [
        f"preference {pid!r} needs answers of at least {floors[pid]} tokens but max_new_tokens "
        f"is {max_new_tokens}: its adherence is 0 by construction (raise --max-new-tokens)"
        for pid in beyond_cap(floors, max_new_tokens)
    ]
