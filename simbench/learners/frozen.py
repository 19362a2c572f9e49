"""The `frozen` arm: the base model, never updated. Its adherence is the baseline b_j."""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

from simbench.learners.base import LearnerContext, Turn, UpdateResult
from simbench.persona.preference import Preference


class FrozenLearner:
    """Answers with the default system prompt and ignores every follow-up."""

    def __init__(self, context: LearnerContext | None = None) -> None:
        del context

    def system_prompt(self, active: Sequence[Preference]) -> str | None:
        return None

    def observe(self, turns: Sequence[Turn]) -> UpdateResult | None:
        return None

    def save(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)

    def load(self, directory: Path) -> None:
        return None
