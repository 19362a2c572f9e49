"""The optional LLM judge: rubric scores for preferences no checker decides, and pairwise
verdicts for win rates.

Two questions, both greedy: `score` asks whether one answer meets a rubric (YES/NO);
`compare` asks which of two answers follows a criterion better, in both orders to cancel
position bias: agreement names a winner, disagreement (or an unreadable verdict) is a tie.
Requests go through `ChatEndpoint`; replies are cached by the exact request
(simbench/judge_cache.py), so re-scoring a run costs nothing.

Judges are an extension point like users and learners: the `Judge` Protocol (build hook
`from_config`, `identity`, `score_many`, `compare_many`) and the `JUDGES` registry, where
`openai` is this module's endpoint judge (`--judge openai --judge-option base_url=...`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Protocol, Sequence

from simbench.errors import InputError, JudgeError
from simbench.judge_cache import ReplyCache, default_cache_path, reply_key
from simbench.option_types import checked_options
from simbench.registry import Registry
from simbench.users.endpoint import ChatEndpoint, RetryPolicy, map_bounded
from simbench.users.prompting import prompt_hash

Winner = Literal["current", "base", "tie"]
Letter = Literal["A", "B"]


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


_RUBRIC_SYSTEM = (
    "You check whether an assistant answer meets ONE criterion. Ignore everything else about "
    "the answer (correctness, helpfulness, other style) unless the criterion is about it. "
    "Answer with exactly one line: VERDICT: YES or VERDICT: NO."
)
_RUBRIC_USER = (
    "Criterion: {criterion}\n\n"
    "User message:\n{prompt}\n\n"
    "[Answer]\n{answer}\n[End of Answer]\n\n"
    "Does the answer meet the criterion? Reply with one line: VERDICT: YES or VERDICT: NO."
)
TEMPLATE_HASH = prompt_hash(
    [{"role": "template", "content": t} for t in (_SYSTEM, _USER, _RUBRIC_SYSTEM, _RUBRIC_USER)]
)
"""Identifies the judge's prompt templates; recorded with every judged run and report."""


@dataclass(frozen=True)
class RubricResult:
    """Whether one answer meets a rubric: `passed` is None when the reply says neither."""

    passed: bool | None
    verdict: str
    model: str
    prompt_hash: str


def render_rubric_messages(prompt: str, answer: str, criterion: str) -> list[dict[str, str]]:
    """Judge chat messages asking whether `answer` to `prompt` meets `criterion`."""
    user = _RUBRIC_USER.format(criterion=criterion.strip(), prompt=prompt.strip(), answer=answer.strip())
    return [{"role": "system", "content": _RUBRIC_SYSTEM}, {"role": "user", "content": user}]


# The constrained answer the rubric prompt asks for: "VERDICT: YES" (markdown and case aside).
_VERDICT = re.compile(r"\bverdict\W{0,4}[:=\-]\W{0,4}(yes|no)\b(?!['’])", re.IGNORECASE)
# A one-token answer: YES or NO first, then only punctuation or the end of a sentence/line, so
# "No one would ..." or "Yes and no" are not verdicts.
_FIRST_TOKEN = re.compile(r"^[\s\*_`\"'(\[]*(yes|no)[\*_`\"')\]]*(?:[.,;:!\n]|\s+[-–—]\s|\s*$)", re.IGNORECASE)


def parse_yes_no(text: str) -> bool | None:
    """True for a reply whose verdict is YES, False for NO, None when it is unparseable.

    The verdict is the last `VERDICT: YES|NO` in the reply (the line the prompt asks for);
    without one, a reply that starts with YES or NO as a word of its own ("No.", "Yes, it
    does"). Anything else (a verdict sentence, an incidental "no" mid-reply) is unparseable:
    not scored, never read as a fail."""
    found = _VERDICT.findall(text)
    if found:
        return found[-1].lower() == "yes"
    first = _FIRST_TOKEN.match(text)
    return first.group(1).lower() == "yes" if first else None


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
_LETTERS: dict[str, Letter] = {"A": "A", "B": "B"}  # every pattern above captures only A or B


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
            return _LETTERS[match.group(1).upper()]
    named = {letter.upper() for letter in _NAMED.findall(text)}
    if len(named) == 1:
        return _LETTERS[named.pop()]
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
    """Scores answers on rubrics and decides which of two answers follows a criterion better."""

    @classmethod
    def from_config(cls, options: dict[str, Any]) -> Judge:
        """Build the judge from its `--judge-option KEY=VALUE` settings."""
        ...

    def identity(self) -> dict[str, str]:
        """What a verdict depends on besides its inputs (name, model, endpoint, template hash):
        stored in the manifest of a judged run and beside every judged report."""
        ...

    def score_many(self, items: Sequence[tuple[str, str, str]]) -> list[RubricResult]:
        """Rubric verdicts of (prompt, answer, rubric) items, in order."""
        ...

    def compare_many(self, items: Sequence[tuple[str, str, str, str]]) -> list[JudgeResult]:
        """Pairwise verdicts of (prompt, current, base, criterion) items, in order."""
        ...


JUDGES: Registry = Registry("judge", flag="--judge")


@JUDGES.register("openai")
class EndpointJudge:
    """Asks a model behind an OpenAI-compatible endpoint (vLLM, llama.cpp, hosted APIs).

    Options: base_url, model (required), api_key_env, timeout, max_attempts, backoff_base,
    backoff_max, concurrency, max_tokens, and `cache`: a JSONL path for the reply cache
    (default: simbench/judge_cache.default_cache_path()), or "off" to keep replies in memory.
    """

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
        cache: str | None = None,
    ) -> None:
        retry = RetryPolicy(max_attempts=max_attempts, backoff_base=backoff_base, backoff_max=backoff_max)
        self.endpoint = ChatEndpoint(
            base_url, model, api_key_env, timeout, retry, where="judge", error_type=JudgeError
        )
        if max_tokens < 1:
            raise InputError("judge.max_tokens", f"must be >= 1, got {max_tokens!r}")
        if concurrency < 1:
            raise InputError("judge.concurrency", f"must be >= 1, got {concurrency!r}")
        self.concurrency = concurrency
        self.max_tokens = max_tokens
        self.cache = ReplyCache(None if cache == "off" else Path(cache) if cache else default_cache_path())

    @classmethod
    def from_config(cls, options: dict[str, Any]) -> EndpointJudge:
        return cls(**checked_options("--judge-option", "judge 'openai'", cls.__init__, options))

    def __repr__(self) -> str:
        return f"EndpointJudge(endpoint={self.endpoint!r}, max_tokens={self.max_tokens}, cache={self.cache!r})"

    def identity(self) -> dict[str, str]:
        return {"judge": "openai", "model": self.endpoint.model, "base_url": self.endpoint.base_url,
                "max_tokens": str(self.max_tokens), "template_hash": TEMPLATE_HASH}

    def _reply(self, messages: list[dict[str, str]]) -> str:
        """The greedy reply to `messages`, from the cache when it was asked before."""
        key = reply_key(self.endpoint.base_url, self.endpoint.model, self.max_tokens, messages)
        cached = self.cache.get(key)
        if cached is not None:
            return cached
        reply = self.endpoint.complete(messages, temperature=0.0, max_tokens=self.max_tokens).text
        self.cache.put(key, reply)
        return reply

    def score(self, prompt: str, answer: str, rubric: str) -> RubricResult:
        """Whether `answer` meets `rubric` (greedy, so a rerun gives the same verdict)."""
        messages = render_rubric_messages(prompt, answer, rubric)
        reply = self._reply(messages)
        return RubricResult(parse_yes_no(reply), reply, self.endpoint.model, prompt_hash(messages))

    def compare(self, prompt: str, current: str, base: str, criterion: str) -> JudgeResult:
        """Judge one pair in both orders (greedy, so a rerun gives the same verdict)."""
        orders = [
            render_judge_messages(prompt, current, base, criterion),
            render_judge_messages(prompt, base, current, criterion),
        ]
        replies = [self._reply(messages) for messages in orders]
        votes = (vote(parse_choice(replies[0]), True), vote(parse_choice(replies[1]), False))
        return JudgeResult(
            winner=combine_votes(*votes),
            verdicts=(replies[0], replies[1]),
            votes=votes,
            model=self.endpoint.model,
            prompt_hash=prompt_hash([message for messages in orders for message in messages]),
        )

    def score_many(self, items: Sequence[tuple[str, str, str]]) -> list[RubricResult]:
        """`score` for (prompt, answer, rubric) items, `concurrency` at a time, in order."""
        return map_bounded(lambda item: self.score(*item), list(items), self.concurrency)

    def compare_many(self, items: Sequence[tuple[str, str, str, str]]) -> list[JudgeResult]:
        """`compare` for (prompt, current, base, criterion) items, `concurrency` at a time, in order."""
        return map_bounded(lambda item: self.compare(*item), list(items), self.concurrency)


def build_judge(name: str, options: dict[str, Any]) -> Judge:
    """The judge `name` built from its options; bad options name `--judge-option`."""
    try:
        return JUDGES.get(name).from_config(dict(options))
    except (TypeError, ValueError) as exc:
        raise InputError("--judge-option", f"invalid options for judge {name!r}: {exc}") from None


def position_bias(results: Sequence[JudgeResult]) -> float:
    """Share of pairs whose two orders picked the same position (A both times or B both
    times): the judge followed the slot, not the answer. NaN without results."""
    if not results:
        return float("nan")
    same = sum(1 for r in results if None not in r.votes and r.votes[0] != r.votes[1])
    return same / len(results)
