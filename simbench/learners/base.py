"""The `Learner` Protocol: what an arm of the benchmark does with the user's follow-ups.

The episode loop hands a learner the turns of one update batch; it may change the policy's
weights (SDPO, SFT), its system prompt (in-context arms), or nothing (frozen). Every arm
gets the same seeds, prompts, user and budget.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Protocol, Sequence

from simbench.persona.preference import Preference
from simbench.registry import Registry


@dataclass(frozen=True)
class Turn:
    """One assistant turn that received a follow-up: (history x, response y, follow-up o).

    `response_ids` exclude the end-of-turn token; `stopped` says whether the policy ended
    the turn itself (so learners can train the stop decision) or hit the length cap.
    """

    t: int
    turn: int
    messages: tuple[dict[str, str], ...]
    response_text: str
    response_ids: tuple[int, ...]
    follow_up: str
    active: tuple[str, ...]
    stopped: bool = True


@dataclass(frozen=True)
class UpdateResult:
    """What one learner update did. `stats` is JSON-serialisable (loss, advantages, ...)."""

    skipped: bool = False
    reason: str = ""
    stats: dict[str, Any] = field(default_factory=dict)
    token_signals: list[dict[str, Any]] = field(default_factory=list)


class Learner(Protocol):
    """An arm of the benchmark.

    An arm that shapes more than the system prompt (e.g. states the preferences in the user
    turn, or adds example exchanges) also defines `frame(messages, active) -> messages`;
    `framed_messages` calls it when present, so other arms need not.
    """

    def system_prompt(self, active: Sequence[Preference]) -> str | None:
        """The system prompt to answer with while `active` preferences hold (None: default)."""
        ...

    def observe(self, turns: Sequence[Turn]) -> UpdateResult | None:
        """Learn from one update batch of turns; None when the arm does not update."""
        ...

    def save(self, directory: Path) -> None:
        """Write everything needed to continue (adapter, optimizer, memory) to `directory`."""
        ...

    def load(self, directory: Path) -> None:
        """Restore what `save` wrote."""
        ...


@dataclass
class LearnerContext:
    """What a learner factory may use: the shared policy and a regeneration hook."""

    model: Any
    tokenizer: Any
    seed: int
    options: dict[str, Any]
    regenerate: Callable[[Sequence[tuple[dict[str, str], ...]], int], list[Any]] | None = None


def framed_messages(
    learner: Learner, messages: Sequence[dict[str, str]], active: Sequence[Preference]
) -> list[dict[str, str]]:
    """The chat the policy answers for `messages` while `active` holds: the learner's own
    `frame` when it has one, else its system prompt in front of `messages`."""
    frame = getattr(learner, "frame", None)
    if frame is not None:
        return [dict(m) for m in frame(messages, active)]
    from simbench.backends.base import with_system_prompt

    return with_system_prompt(messages, learner.system_prompt(active))


LEARNERS: Registry = Registry("learner", flag="--learner")
