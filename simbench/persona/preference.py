"""The `Preference` and `CheckResult` types every persona, user simulator and probe shares."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Iterable, Mapping, Protocol


class NotVerifiable(TypeError):
    """`Preference.check` on a rubric preference: only a judge can score it."""

    def __init__(self, pid: str) -> None:
        super().__init__(f"preference {pid!r} is scored by a judge's rubric, not a checker; "
                         "score it through simbench.scoring.Scorer")


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
    """A style preference a simulated user holds, scored by a checker or by a judge's rubric.

    `description` is what the user wants, written for a simulated user's prompt
    ("Answers without any emojis."). `complaints` are varied natural follow-ups the user
    sends when a response violates it; they say what to do, not only what to avoid.
    `praise` are follow-ups when a response satisfies it (optional). `min_tokens` is the
    fewest generated tokens a passing answer needs (every counted word is at least one
    token); 0 when an answer of any length can pass.

    `keywords` are word stems a follow-up about this preference mentions ("short", "brief",
    "sentence" for `concise`); an LLM user's follow-up that mentions none of a broken wish's
    keywords is flagged (users/gate.py). `applies_to_user`: the wish concerns how any message
    reads (tone, punctuation, emojis, markup), so a simulated user holding it writes that way
    too and its own follow-ups must pass the checker.

    Exactly one of `checker` and `rubric` is set. A `rubric` preference ("poetic imagery",
    "disagrees instead of flattering") has no regex that could decide it: an LLM judge scores
    it against the rubric (simbench/scoring.py), and without a judge it is *not scored*
    (never silently passed or failed). `check` refuses such a preference.

    `prompt_dependent`: only some prompts give an answer the chance to satisfy it (a list
    needs several points, a clarifying question an ambiguous request); probe draws from a
    tagged pool keep the prompts tagged with it (prompts/draws.py). Style wishes any answer
    can meet (length, tone, emojis) leave it False.
    """

    id: str
    description: str
    checker: Checker | None = None
    opposite: str | None = None
    complaints: tuple[str, ...] = ()
    praise: tuple[str, ...] = field(default=())
    min_tokens: int = 0
    keywords: tuple[str, ...] = ()
    applies_to_user: bool = False
    rubric: str | None = None
    prompt_dependent: bool = False

    def __post_init__(self) -> None:
        if (self.checker is None) == (self.rubric is None):
            raise ValueError(f"preference {self.id!r} needs exactly one of checker and rubric")

    @property
    def verifiable(self) -> bool:
        """Whether a checker decides it (False: a judge scores its rubric)."""
        return self.checker is not None

    def check(self, text: str) -> CheckResult:
        if self.checker is None:
            raise NotVerifiable(self.id)
        return self.checker(text)

    def mentioned_in(self, text: str) -> bool:
        """Whether `text` talks about this preference: one of its keywords (or, without
        keywords, one of the longer words of its description) starts a word of `text`."""
        stems = self.keywords or tuple(
            w for w in re.findall(r"[a-z]+", self.description.lower()) if len(w) >= 6
        )
        lowered = text.lower()
        return any(re.search(r"(?<![a-z])" + re.escape(stem), lowered) for stem in stems)


def token_floors(preferences: Iterable[Preference]) -> dict[str, int]:
    """{id: min_tokens} of the preferences that need a minimum answer length."""
    return {p.id: p.min_tokens for p in preferences if p.min_tokens}


def beyond_cap(floors: Mapping[str, int], max_new_tokens: int) -> list[str]:
    """Ids in `floors` that no answer of at most `max_new_tokens` tokens can pass."""
    return [pid for pid, floor in floors.items() if floor > max_new_tokens]


def token_cap_warnings(floors: Mapping[str, int], max_new_tokens: int) -> list[str]:
    """One line per preference that no answer of at most `max_new_tokens` tokens can pass.

    Floors are word counts (every word is at least one token), so the line names words,
    the unit the checker counts."""
    return [
        f"preference {pid!r} needs answers of at least {floors[pid]} words (so at least "
        f"{floors[pid]} tokens, usually more) but max_new_tokens is {max_new_tokens}: its adherence is 0 by "
        "construction (raise --max-new-tokens)"
        for pid in beyond_cap(floors, max_new_tokens)
    ]
