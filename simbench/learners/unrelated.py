"""The unrelated-feedback control of any feedback-driven learner (`<learner>+unrelated`).

On a small model any extra user message in context shifts the output (answers get shorter
after any follow-up), so "the learner improved" does not yet mean "it learned from what the
user said". Each feedback-driven learner therefore has a twin that runs identically except
that every follow-up it learns from is swapped for an unrelated user message; specificity is
the learner's adherence minus its twin's. The simulated user, its logged follow-ups and all
seeds are unchanged, so the two runs differ only in what the learner was told.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any, Sequence

from simbench.learners.base import LearnerContext, Turn, UpdateResult
from simbench.persona.preference import Preference
from simbench.seeding import derive_rng
from simbench.users.rules import unrelated_message


def unrelated_turn(turn: Turn, seed: int) -> Turn:
    """`turn` with its follow-up replaced by an unrelated message drawn from (seed, t, turn)."""
    return replace(turn, follow_up=unrelated_message(derive_rng(seed, "unrelated", turn.t, turn.turn)))


class UnrelatedFeedback:
    """Wraps a learner: it sees every follow-up replaced by an unrelated user message.

    `twin_class(learner, registry)` makes a subclass naming the wrapped learner, whose
    `from_config` and `check_options` hooks build and check through that learner's own hooks."""

    base: str = ""
    """Registry name of the wrapped learner (set by `twin_class`)."""
    registry: Any = None
    """The learner registry `base` is looked up in (set by `twin_class`)."""

    def __init__(self, inner: Any, seed: int) -> None:
        self.inner = inner
        self.seed = seed

    @classmethod
    def from_config(cls, context: LearnerContext) -> UnrelatedFeedback:
        return cls(cls.registry.get(cls.base).from_config(context), context.seed)

    @classmethod
    def check_options(cls, context: LearnerContext) -> None:
        cls.registry.get(cls.base).check_options(context)

    @property
    def policy(self) -> Any:
        """The wrapped learner's policy (what the backend generates with)."""
        return self.inner.policy

    @property
    def model(self) -> Any:
        return self.inner.policy

    def adapter_dir(self) -> Path | None:
        return self.inner.adapter_dir()

    def system_prompt(self, active: Sequence[Preference]) -> str | None:
        return self.inner.system_prompt(active)

    def feedback(self, turn: Turn) -> str:
        """The message this control learns from in place of `turn`'s follow-up."""
        return unrelated_turn(turn, self.seed).follow_up

    def observe(self, turns: Sequence[Turn]) -> UpdateResult | None:
        result = self.inner.observe([unrelated_turn(turn, self.seed) for turn in turns])
        if result is None:
            return None
        return replace(result, stats={**result.stats, "feedback": "unrelated"})

    def save(self, directory: Path) -> None:
        self.inner.save(directory)

    def load(self, directory: Path) -> None:
        self.inner.load(directory)

    def __getattr__(self, name: str) -> Any:
        # Learner-specific state (an in-context learner's memory) reads through to the inner one.
        return getattr(self.__dict__["inner"], name)


def twin_class(learner: str, registry: Any, doc: str | None = None) -> type[UnrelatedFeedback]:
    """The `UnrelatedFeedback` subclass wrapping learner `learner` of `registry`."""
    doc = doc or f"Control: {learner} with every follow-up swapped for an unrelated user message."
    return type(f"Unrelated[{learner}]", (UnrelatedFeedback,), {"base": learner, "registry": registry, "__doc__": doc})
