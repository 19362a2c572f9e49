"""The `frozen` arm: the base model, never updated. Its adherence is the baseline b_j."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence

from simbench.learners.base import LearnerContext, Turn, UpdateResult
from simbench.persona.preference import Preference


class FrozenLearner:
    """Answers with the default system prompt and ignores every follow-up."""

    def __init__(self, context: LearnerContext | None = None) -> None:
        self.policy: Any = context.model if context is not None else None

    @classmethod
    def from_config(cls, context: LearnerContext) -> "FrozenLearner":
        return cls(context)

    @classmethod
    def check_options(cls, context: LearnerContext) -> None:
        """Arms without weights read only their options when built, so building one on a
        context without a model checks them; an arm that needs the model is checked when built."""
        try:
            cls(context)
        except AttributeError:
            return

    def adapter_dir(self) -> Path | None:
        return None

    def system_prompt(self, active: Sequence[Preference]) -> str | None:
        return None

    def observe(self, turns: Sequence[Turn]) -> UpdateResult | None:
        return None

    def save(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)

    def load(self, directory: Path) -> None:
        return None
