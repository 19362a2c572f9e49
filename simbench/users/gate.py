"""Quality gate for follow-ups an LLM writes as the simulated user.

A small model playing the user echoes the assistant's answer, answers as if it were the
assistant, leaks a prompt label ("The next message is: ..."), says nothing, talks about
anything but the wish the answer broke, or breaks the very wish it voices ("Shorter
please!" from a user who wants a calm tone). `problems` names each of these with pure
string rules and the checkers' own keywords; `gated` retries a bounded number of times and
then keeps the last reply, flagged, so the run goes on and the report can count them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable, Generic, Sequence, TypeVar

from simbench.persona.preference import Preference

ECHO = "echo"
ROLE_FLIP = "role_flip"
LABEL_LEAK = "label_leak"
EMPTY = "empty"
OFF_WISH = "misses_broken_wish"
SELF_BREAK = "breaks_own_wish"
REASONS = {
    ECHO: "repeats the assistant's answer",
    ROLE_FLIP: "answers as the assistant",
    LABEL_LEAK: "contains a prompt label",
    EMPTY: "empty",
    OFF_WISH: "does not mention the broken wish",
    SELF_BREAK: "breaks a wish the user voices",
}
DEFAULT_ATTEMPTS = 3
# A retry at temperature 0 would only replay the rejected reply.
RETRY_TEMPERATURE = 0.7
# Share of the follow-up's word trigrams found in the answer at which it counts as an echo.
ECHO_SHARE = 0.5
# A reply that answers the question itself restates the answer's content in its own order:
# at least this share of its content words (5+ letters) are the answer's, over at least
# ECHO_MIN_WORDS of them (a short complaint naming one topic word is no restatement).
ECHO_WORD_SHARE = 0.5
ECHO_MIN_WORDS = 8

# How an assistant speaks, anywhere in the reply: a small model playing the user often starts
# as the user and turns into the assistant mid-reply. Each rule is named so tests and docs can
# point at it; docs/user-gate.md gives the labelled set they were tuned on and their scores.
_SENTENCE = r"(?:^|(?<=[.!?:\n])\s*)"
ASSISTANT_RULES: dict[str, re.Pattern[str]] = {
    # "Sure! Here is ...", "Certainly.", "Of course, ..." at the start of a sentence.
    "opener": re.compile(_SENTENCE + r"(?:sure|certainly|of course|absolutely)\b[,!.]"
                         r"|" + _SENTENCE + r"here(?:'s| is| are)\b(?! (?:my|the) (?:question|problem))", re.I),
    # Praise of the question or agreement with a correction, the assistant's reflexes.
    "praise": re.compile(r"\b(?:great|good|excellent|interesting|fantastic) (?:question|idea|way to)\b"
                         r"|\byou(?:'re| are) (?:absolutely |so |quite )?right\b"
                         r"|\bi(?:'m| am) (?:so |really )?glad (?:you(?:'re| are)|to hear)\b"
                         r"|\bi(?:'m| am) (?:so |really )?(?:thrilled|delighted)\b"
                         r"|\b(?:what|such) a (?:wonderful|great|lovely|fantastic) (?:message|question|idea)\b"
                         r"|\byou(?:'re| are) (?:already |now |all )?(?:ahead of|on the right track|ready to)\b"
                         r"|\byou(?:'ve| have) got this\b", re.I),
    # The assistant describing itself or offering its services.
    "self": re.compile(r"\bas an ai\b|\bi(?:'m| am) an? (?:ai|assistant|language model)\b"
                       r"|\bi(?:'m| am) here to (?:help|assist)\b|\bi can (?:help|guide|assist)\b"
                       r"|\b(?:i'd|i would|i'll be|i will be|i am|i'm) (?:happy|glad) to (?:help|assist)\b"
                       r"|\bhow (?:can|may) i (?:help|assist)\b|\bis there anything else\b"
                       r"|\bwhat(?:'s| is) your next question\b|\bunable to assist\b"
                       # Its own answer, the user's question: the two sides seen from the assistant.
                       r"|\bmy (?:previous |last |earlier )?(?:response|answer)\b"
                       r"|\byour (?:question|request|query|queries)\b", re.I),
    # Refusing or apologising as a service does: "I cannot help you with your message".
    "service": re.compile(r"\b(?:i cannot|i can't|i can not|i(?:'m| am) unable to|not possible for me to)"
                          r" (?:help|assist)\b|\bsorry (?:for|about) (?:any|the) (?:inconvenience|confusion)\b"
                          r"|\bsorry to inform you\b|\bi(?:'d| would) (?:suggest|recommend)\b|\bi recommend\b"
                          r"|\bi(?:'d| would) love to hear\b", re.I),
    # Promises about its next answer: "I'll try again to make it clearer", "Let me rephrase".
    "promise": re.compile(r"\bi(?:'ll| will) (?:try again|try to make|make (?:it|sure)|keep (?:it|that|your)"
                          r"|be sure|provide|explain|rewrite|rephrase|give you|help you|do my best|guide you)\b"
                          r"|\blet me (?:try|explain|rephrase|know|give|help|walk)\b", re.I),
    # Sign-offs that close an assistant's answer.
    "sign_off": re.compile(r"\blet me know if\b|\bi hope (?:this|that) helps\b|\bfeel free to\b"
                           r"|\bhappy (?:cooking|reading|learning|travels)\b|\bgood luck\b", re.I),
}


def assistant_rules(text: str) -> list[str]:
    """Names of the ASSISTANT_RULES that `text` matches anywhere (empty: it reads as a user)."""
    return [name for name, pattern in ASSISTANT_RULES.items() if pattern.search(text)]


# Prompt scaffolding written into the message instead of the message itself.
_LABEL = re.compile(
    r"\b(?:the|my|your) (?:next |following )?(?:message|reply|response|follow-up)"
    r"(?: is| would be| will be)?(?: here)?\s*:|\bnext message\s*:"
    r"|^here(?:'s| is) (?:the|my) (?:next |following )?(?:message|reply|response)\b"
    # The headings of our own prompt (users/prompting.py) copied into the reply.
    r"|\bmy message was\s*:|\bthe assistant (?:answered|said|wrote|replied)\s*:"
    r"|^\W*(?:(?:a|the|my|your) )?(?:user|assistant|you|me|reply|response|message|follow-up|answer)\s*:"
    r"|\bhow you want the assistant to answer\s*:|\(this answer (?:follows|breaks) it\b"
    r"|\bassistant\s*:|\buser\s*:|\[(?:user|assistant|your message)[^\]]*\]",
    re.IGNORECASE,
)


def _trigrams(text: str) -> set[tuple[str, ...]]:
    words = re.findall(r"[a-z0-9']+", text.lower())
    return {tuple(words[i : i + 3]) for i in range(len(words) - 2)}


def _content_words(text: str) -> list[str]:
    return [w for w in re.findall(r"[a-z']+", text.lower()) if len(w) >= 5]


def echoes(text: str, answer: str) -> bool:
    """Whether `text` mostly repeats `answer`: at least half its word trigrams occur there,
    or it restates the answer's content (ECHO_WORD_SHARE of ECHO_MIN_WORDS+ content words);
    a short reply is an echo when it occurs in the answer verbatim."""
    grams = _trigrams(text)
    if not grams:
        squeezed = " ".join(text.lower().split())
        return len(squeezed) >= 12 and squeezed in " ".join(answer.lower().split())
    if len(grams & _trigrams(answer)) / len(grams) >= ECHO_SHARE:
        return True
    words, known = _content_words(text), set(_content_words(answer))
    return len(words) >= ECHO_MIN_WORDS and sum(w in known for w in words) / len(words) >= ECHO_WORD_SHARE


def problems(
    text: str, answer: str, active: Sequence[Preference], violated: Sequence[str]
) -> list[str]:
    """What is wrong with follow-up `text` to `answer` (empty list: it passes the gate).

    `violated` are the ids the checkers found broken; the follow-up must mention at least
    one of them (its keywords) when there are any.
    """
    if not re.search(r"[A-Za-z]", text):
        return [EMPTY]
    found = []
    if echoes(text, answer):
        found.append(ECHO)
    if assistant_rules(text.strip()):
        found.append(ROLE_FLIP)
    if _LABEL.search(text):
        found.append(LABEL_LEAK)
    by_id = {p.id: p for p in active}
    broken = [by_id[pid] for pid in violated if pid in by_id]
    if broken and not any(p.mentioned_in(text) for p in broken):
        found.append(OFF_WISH)
    if any(p.applies_to_user and not p.check(text).passed for p in active):
        found.append(SELF_BREAK)
    return found


Extra = TypeVar("Extra")  # what a backend's `write` returns beside the text


@dataclass(frozen=True)
class GateResult(Generic[Extra]):
    """The follow-up kept, what the LLM backend returned with it, and the gate's record."""

    text: str
    extra: Extra
    attempts: int
    flags: tuple[str, ...]

    def meta(self) -> dict:
        """The `gate` entry of FollowUp.meta: tries used and what the kept reply failed."""
        return {"attempts": self.attempts, "flags": list(self.flags)}


def gated(
    write: Callable[[int], tuple[str, Extra]],
    answer: str,
    active: Sequence[Preference],
    violated: Sequence[str],
    attempts: int = DEFAULT_ATTEMPTS,
) -> GateResult[Extra]:
    """Call `write(attempt)` (0-based) until its text passes the gate, at most `attempts`
    times; the last reply is kept, with the gate's flags, when none passes."""
    if attempts < 1:
        raise ValueError(f"attempts must be >= 1, got {attempts}")
    for attempt in range(attempts):
        text, extra = write(attempt)
        found = problems(text, answer, active, violated)
        if not found:
            break
    return GateResult(text, extra, attempt + 1, tuple(found))


def retry_temperature(temperature: float, attempt: int) -> float:
    """The sampling temperature of try `attempt` (0-based): as configured first, then at
    least RETRY_TEMPERATURE so a retry can differ from a rejected greedy reply."""
    return temperature if attempt == 0 else max(temperature, RETRY_TEMPERATURE)
