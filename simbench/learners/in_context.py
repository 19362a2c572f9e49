"""In-context arms: no weight updates, the system prompt carries the preferences.

`in-context-oracle` states the active preferences directly (the paper's reference arm and
the ceiling c_j of normalised metrics); `in-context-memory` accumulates the user's recent
follow-ups, which is what a deployed assistant without weight updates could do.

A small model may ignore a system prompt, which puts the oracle below the learners it should
bound (issue 12). Two stronger oracles: `in-context-oracle-user` states the preferences in
the user's own opening message, and `in-context-oracle-fewshot` also puts example exchanges
whose answers pass every active checker before the conversation.
"""

from __future__ import annotations

import json
from collections import deque
from pathlib import Path
from typing import Sequence

from simbench.errors import InputError
from simbench.learners.base import LearnerContext, Turn, UpdateResult
from simbench.learners.frozen import FrozenLearner
from simbench.learners.oracle_examples import compliant_examples
from simbench.persona.preference import Preference
from simbench.safe_load import load_json

ORACLE_HEADER = "You are a helpful assistant. This user has told you how they like answers:"
USER_NOTE_HEADER = "How I like answers:"
MEMORY_HEADER = (
    "You are a helpful assistant. Earlier in this conversation history the user gave this "
    "feedback on your answers; follow it:"
)


class OracleLearner(FrozenLearner):
    """Puts the active preference descriptions in the system prompt."""

    def system_prompt(self, active: Sequence[Preference]) -> str | None:
        if not active:
            return None
        return "\n".join([ORACLE_HEADER, *(f"- {p.description}" for p in active)])


def state_in_user_turn(messages: Sequence[dict[str, str]], active: Sequence[Preference]) -> list[dict[str, str]]:
    """`messages` with the active preferences appended to the first user message, as one line
    of prose: a bulleted note primed SmolLM2 to answer in lists (no-lists fell to 0.75)."""
    framed = [dict(m) for m in messages]
    first = next((m for m in framed if m.get("role") == "user"), None)
    if active and first is not None:
        note = " ".join([USER_NOTE_HEADER, *(p.description for p in active)])
        first["content"] = f"{first['content']}\n\n{note}"
    return framed


class OracleUserLearner(FrozenLearner):
    """States the active preferences at the end of the user's first message, as a user would
    when asking ("... How I like answers: ..."); no system prompt."""

    def frame(self, messages: Sequence[dict[str, str]], active: Sequence[Preference]) -> list[dict[str, str]]:
        return state_in_user_turn(messages, active)


class OracleFewShotLearner(OracleLearner):
    """Example exchanges (`oracle_examples`) whose answers pass every active preference's
    checker, placed before the conversation, with the preferences stated in the user's first
    message (learner option `statement=user`, the default: the stronger on SmolLM2, see
    docs/LOG.md) or in the oracle's system prompt (`statement=system`)."""

    STATEMENTS = ("user", "system")

    def __init__(self, context: LearnerContext | None = None) -> None:
        super().__init__(context)
        self.statement = str((context.options if context else {}).get("statement", "user"))
        if self.statement not in self.STATEMENTS:
            raise ValueError(f"statement must be one of {', '.join(self.STATEMENTS)}, got {self.statement!r}")

    def frame(self, messages: Sequence[dict[str, str]], active: Sequence[Preference]) -> list[dict[str, str]]:
        framed = [dict(m) for m in messages]
        if not active or (framed and framed[0].get("role") == "system"):
            return framed
        shots = []
        for question, answer in compliant_examples(active):
            shots += [{"role": "user", "content": question}, {"role": "assistant", "content": answer}]
        if self.statement == "user":
            return [*shots, *state_in_user_turn(framed, active)]
        return [{"role": "system", "content": self.system_prompt(active)}, *shots, *framed]


class MemoryLearner(FrozenLearner):
    """Keeps the last `memory_size` follow-ups and shows them in the system prompt."""

    def __init__(self, context: LearnerContext) -> None:
        super().__init__(context)
        size = context.options.get("memory_size", 8)
        if isinstance(size, bool) or not isinstance(size, int) or size < 1:
            raise ValueError(f"memory_size must be >= 1 (an integer), got {size!r}")
        self.memory: deque[str] = deque(maxlen=size)

    def system_prompt(self, active: Sequence[Preference]) -> str | None:
        if not self.memory:
            return None
        return "\n".join([MEMORY_HEADER, *(f"- {text}" for text in self.memory)])

    def observe(self, turns: Sequence[Turn]) -> UpdateResult | None:
        for turn in turns:
            self.memory.append(" ".join(turn.follow_up.split()))
        return None

    def save(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        (directory / "memory.json").write_text(json.dumps(list(self.memory)))

    def load(self, directory: Path) -> None:
        memory = load_json(directory / "memory.json", kind=list)
        if not all(isinstance(text, str) for text in memory):
            raise InputError(str(directory / "memory.json"), "must hold a list of strings")
        self.memory.clear()
        self.memory.extend(memory)
