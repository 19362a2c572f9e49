"""The `Learner` Protocol: what an arm of the benchmark does with the user's follow-ups.

The episode loop hands a learner the turns of one update batch; it may change the policy's
weights (SDPO, SFT), its system prompt (in-context arms), or nothing (frozen). Every arm
gets the same seeds, prompts, user and budget.

The learner <-> backend contract: a learner owns the policy. `policy` is the model the
backend generates with in process (its LoRA adapter attached when the arm trains one), and
`adapter_dir()` writes the current adapter to a folder and names it, for a backend that
serves the weights out of process (vLLM loads the adapter by folder after every update).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Protocol, Sequence

from simbench.backends.base import with_system_prompt
from simbench.persona.preference import Preference


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

    policy: Any
    """The model to generate with (the base model, or it with this arm's adapter attached)."""

    @classmethod
    def from_config(cls, context: LearnerContext) -> Learner:
        """Build the arm on `context`; a bad option raises TypeError or ValueError."""
        ...

    @classmethod
    def check_options(cls, context: LearnerContext) -> None:
        """Raise TypeError/ValueError for options the arm rejects; `context.model` is None
        (called while validating a run, before any model loads)."""
        ...

    def adapter_dir(self) -> Path | None:
        """A folder holding the current LoRA adapter in peft format (written when the weights
        changed since the last call), or None for arms that never change the weights."""
        ...

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
    """What a learner is built from: the loaded base model, its options and a regeneration hook."""

    model: Any
    """The base policy, as loaded (no adapter yet)."""
    tokenizer: Any
    seed: int
    options: dict[str, Any]
    """The `--learner-option KEY=VALUE` settings (lr, lora_r, memory_size, ...)."""
    regenerate: Callable[[Sequence[tuple[dict[str, str], ...]], int], list[Any]] | None = None
    """Generate with the run's backend: (chats, seed) -> generations (sft-hindsight uses it)."""
    matmul_path: str = "fp32"
    """The run's matmul path for training passes ("fp32" or "bf16", sdpo/precision.py)."""


def framed_messages(
    learner: Learner, messages: Sequence[dict[str, str]], active: Sequence[Preference]
) -> list[dict[str, str]]:
    """The chat the policy answers for `messages` while `active` holds: the learner's own
    `frame` when it has one, else its system prompt in front of `messages`."""
    frame = getattr(learner, "frame", None)
    if frame is not None:
        return [dict(m) for m in frame(messages, active)]

    return with_system_prompt(messages, learner.system_prompt(active))
