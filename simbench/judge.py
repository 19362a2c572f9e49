"""Optional pairwise LLM judge: does the current policy's answer follow a preference better than the base's?

Each pair is asked in both orders to cancel position bias: agreement names a winner,
disagreement (or an unreadable verdict) is a tie. Requests go through `ChatEndpoint`.

Judges are an extension point like users and learners: the `Judge` Protocol (build hook
`from_config`, `compare`, `compare_many`) and the `JUDGES` registry, where `pairwise` is this
module's endpoint judge. No command runs a judge yet; runs and reports will name one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Literal, Protocol, Sequence

from simbench.errors import SimbenchError
from simbench.registry import Registry
from simbench.users.endpoint import ChatEndpoint, RetryPolicy, map_bounded
from simbench.users.prompting import prompt_hash

Winner = Literal["current", "base", "tie"]
Letter = Literal["A", "B"]


class JudgeError(SimbenchError):
    """The judge endpoint failed (down, retries exhausted, unusable replies)."""


_SYSTEM = (
    "You compare two assistant answers to the same user message on ONE criterion only. "
    "Ignore everything else about the answers (correctness, helpfulness, style) unless the "
    "criterion is about it. Reply with a single letter: A or B."
)
_USER = (
    "Criterion: {criterion}\n\n"
    "User message:\n{prompt}\n\n"
    "[Answer A]\n{a}\n[End of Answer A]\n\n"
    "[Answer B]\n{b}\n[End of Answer B]\n\n"
    "Which answer follows the criterion better? Reply with A or B only."
)


@dataclass(frozen=True)
class JudgeResult:
    """The verdict for one (prompt, current, base) pair on one criterion.

    `verdicts` are the judge's raw replies: first with the current answer as A, then with
    the base answer as A. `votes` are what each order said wins (None: unreadable).
    """

    winner: Winner
    verdicts: tuple[str, str]
    votes: tuple[Winner | None, Winner | None]
    model: str
    prompt_hash: str


def render_judge_messages(prompt: str, first: str, second: str, criterion: str) -> list[dict[str, str]]:
    """Judge chat messages with `first` shown as Answer A and `second` as Answer B."""
    user = _USER.format(criterion=criterion.strip(), prompt=prompt.strip(), a=first.strip(), b=second.strip())
    return [{"role": "system", "content": _SYSTEM}, {"role": "user", "content": user}]


_ONLY_LETTER = re.compile(r"^\W*([ABab])\W*$")
# Keywords match in any case; the chosen letter must be a capital, so the article "a" never counts.
_DECISIVE = (
    re.compile(
        r"(?i:final answer|answer|verdict|winner|choice|better one|better answer)\s*(?i:is|:|-)\s*"
        r"(?i:answer|response|option)?\s*[\(\[\*\"'`]*([AB])(?![A-Za-z])"
    ),
    re.compile(
        r"(?i:choose|pick|prefer|go with|vote for)\s+(?i:answer|response|option)?\s*"
        r"[\(\[\*\"'`]*([AB])(?![A-Za-z])"
    ),
    re.compile(
        r"\b([AB])\b[\)\]\*\"'`]*\s+(?i:is|was)\s+(?i:the\s+)?(?i:better|preferred|closer|winner)"
    ),
)
_LEADING = re.compile(r"^[\s\*\(\[\"'`]*([AB])\s*(?:[\.\):\]\*\"'`,]|$|\n)")
_NAMED = re.compile(r"(?i:answer|response|option)\s*([AB])\b")


def parse_choice(text: str) -> Letter | None:
    """The letter a judge reply picks, or None when it picks neither or both.

    Tries, in order: the reply is just the letter; a decisive phrase ("Answer: B",
    "I prefer A", "B is better"); a leading letter followed by punctuation ("A. Because");
    a single answer named ("Response B ..."). A bare leading "A" followed by a word is an
    article, not a choice.
    """
    text = text.strip()
    for pattern in (_ONLY_LETTER, *_DECISIVE, _LEADING):
        match = pattern.search(text)
        if match:
            return match.group(1).upper()  # type: ignore[return-value]
    named = {letter.upper() for letter in _NAMED.findall(text)}
    if len(named) == 1:
        return named.pop()  # type: ignore[return-value]
    return None


def vote(letter: Letter | None, current_is_a: bool) -> Winner | None:
    """Which side a letter picks, given which side was shown as A."""
    if letter is None:
        return None
    picked_a = letter == "A"
    return "current" if picked_a == current_is_a else "base"


def combine_votes(first: Winner | None, second: Winner | None) -> Winner:
    """Both orders agree -> that side; otherwise (disagreement or an unreadable vote) a tie."""
    if first is not None and first == second:
        return first
    return "tie"


def win_rate(results: Sequence[JudgeResult]) -> float:
    """Share of pairs the current policy wins, ties counting half."""
    if not results:
        raise ValueError("win_rate needs at least one judge result")
    score = sum(1.0 if r.winner == "current" else 0.5 if r.winner == "tie" else 0.0 for r in results)
    return score / len(results)


class Judge(Protocol):
    """Decides which of two answers to a prompt follows a criterion (a preference) better."""

    @classmethod
    def from_config(cls, options: dict[str, Any]) -> Judge:
        """Build the judge from its `--judge-option KEY=VALUE` settings."""
        ...

    def compare(self, prompt: str, current: str, base: str, criterion: str) -> JudgeResult: ...

    def compare_many(self, items: Sequence[tuple[str, str, str, str]]) -> list[JudgeResult]:
        """`compare` of (prompt, current, base, criterion) items, in order."""
        ...


JUDGES: Registry = Registry("judge", flag="--judge")


@JUDGES.register("pairwise")
class PairwiseJudge:
    """Asks an OpenAI-compatible model which of two answers follows a criterion better."""

    def __init__(
        self,
        base_url: str,
        model: str,
        api_key_env: str | None = "OPENAI_API_KEY",
        timeout: float = 30.0,
        max_attempts: int = 5,
        backoff_base: float = 0.5,
        backoff_max: float = 8.0,
        concurrency: int = 4,
        max_tokens: int = 16,
    ) -> None:
        retry = RetryPolicy(max_attempts=max_attempts, backoff_base=backoff_base, backoff_max=backoff_max)
        self.endpoint = ChatEndpoint(
            base_url, model, api_key_env, timeout, retry, where="judge", error_type=JudgeError
        )
        self.concurrency = max(1, concurrency)
        self.max_tokens = max_tokens

    @classmethod
    def from_config(cls, options: dict[str, Any]) -> PairwiseJudge:
        return cls(**options)

    def __repr__(self) -> str:
        return f"PairwiseJudge(endpoint={self.endpoint!r}, max_tokens={self.max_tokens})"

    def compare(self, prompt: str, current: str, base: str, criterion: str) -> JudgeResult:
        """Judge one pair in both orders (greedy, so a rerun gives the same verdict)."""
        orders = [
            render_judge_messages(prompt, current, base, criterion),
            render_judge_messages(prompt, base, current, criterion),
        ]
        replies = [
            self.endpoint.complete(messages, temperature=0.0, max_tokens=self.max_tokens).text
            for messages in orders
        ]
        votes = (vote(parse_choice(replies[0]), True), vote(parse_choice(replies[1]), False))
        return JudgeResult(
            winner=combine_votes(*votes),
            verdicts=(replies[0], replies[1]),
            votes=votes,
            model=self.endpoint.model,
            prompt_hash=prompt_hash([message for messages in orders for message in messages]),
        )

    def compare_many(self, items: Sequence[tuple[str, str, str, str]]) -> list[JudgeResult]:
        """`compare` for (prompt, current, base, criterion) items, `concurrency` at a time, in order."""
        return map_bounded(lambda item: self.compare(*item), list(items), self.concurrency)
