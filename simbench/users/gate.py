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

# How an assistant opens or speaks about itself; a user does not talk like this.
_ASSISTANT = re.compile(
    r"^(?:sure|certainly|of course|absolutely)\b[,!.]|^here(?:'s| is| are)\b"
    r"|^(?:great|good|excellent) question\b|\bas an ai\b|\bi(?:'m| am) an ai\b"
    r"|\b(?:i'd|i would) be (?:happy|glad) to help\b|\bhow can i (?:help|assist)\b"
    r"|\blet me know if you (?:have|need)\b|\bi hope this helps\b",
    re.IGNORECASE,
)
# Prompt scaffolding written into the message instead of the message itself.
_LABEL = re.compile(
    r"\b(?:the|my|your) (?:next |following )?(?:message|reply|response|follow-up)"
    r"(?: is| would be| will be)?\s*:|\bnext message\s*:"
    r"|^here(?:'s| is) (?:the|my) (?:next |following )?(?:message|reply|response)\b"
    # The headings of our own prompt (users/prompting.py) copied into the reply.
    r"|\bmy message was\s*:|\bthe assistant (?:answered|said|wrote|replied)\s*:"
    r"|^\W*(?:user|assistant|you|me|reply|response|message|follow-up)\s*:"
    r"|\bassistant\s*:|\buser\s*:|\[(?:user|assistant|your message)[^\]]*\]",
    re.IGNORECASE,
)


def _trigrams(text: str) -> set[tuple[str, ...]]:
    words = re.findall(r"[a-z0-9']+", text.lower())
    return {tuple(words[i : i + 3]) for i in range(len(words) - 2)}


def echoes(text: str, answer: str) -> bool:
    """Whether `text` mostly repeats `answer`: at least half its word trigrams occur there
    (a short reply is an echo when it occurs in the answer verbatim)."""
    grams = _trigrams(text)
    if not grams:
        squeezed = " ".join(text.lower().split())
        return len(squeezed) >= 12 and squeezed in " ".join(answer.lower().split())
    return len(grams & _trigrams(answer)) / len(grams) >= ECHO_SHARE


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
    if _ASSISTANT.search(text.strip()):
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
