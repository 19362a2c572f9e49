"""The one place the simulated user's chat prompt is rendered (LLM-backed users share it).

Persona background + active preference descriptions (+ optionally the checkers' verdicts) +
the (prompt, response) exchange -> chat messages asking for ONE short natural follow-up.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from typing import Any, Mapping, Sequence

from simbench.persona.preference import CheckResult, Preference
from simbench.scoring import CHECKERS_ONLY, Scorer

DEFAULT_BACKGROUND = "You are an everyday user chatting with an AI assistant."

_INSTRUCTIONS = (
    "You are playing a user who is chatting with an AI assistant. Stay in character.\n"
    "{background}\n\n"
    "How you want the assistant to answer:\n"
    "{preferences}\n\n"
    "Read the assistant's latest answer and write the ONE next message you would send. "
    "Keep it short and natural (one or two sentences). If the answer goes against any of "
    "your wishes, say plainly what the assistant should do differently next time. If it "
    "follows all of them, just say a short thanks. Write only the message itself: no "
    "quotes, no labels, and do not mention that you are playing a role."
)

_EXCHANGE = "My message was:\n{prompt}\n\nThe assistant answered:\n{response}\n\nYour next message:"


def render_user_messages(
    prompt: str,
    response: str,
    active: Sequence[Preference],
    background: str = "",
    checks: Mapping[str, CheckResult] | None = None,
) -> list[dict[str, str]]:
    """Chat messages (system + user) asking an LLM to write the persona's next message.

    `checks` (preference id -> checker result) marks each wish as kept or broken by this
    answer, so the LLM only phrases the feedback while the checkers decide what is wrong;
    without it the LLM must judge the answer itself. Preference ids never appear, only the
    descriptions written for users.
    """
    lines = []
    for preference in active:
        line = f"- {preference.description.strip()}"
        result = checks.get(preference.id) if checks is not None else None
        if result is not None:
            line += " (this answer follows it)" if result.passed else _broken_note(result)
        lines.append(line)
    if not lines:
        lines.append("- No particular wishes: any reasonable answer is fine.")
    system = _INSTRUCTIONS.format(
        background=(background.strip() or DEFAULT_BACKGROUND),
        preferences="\n".join(lines),
    )
    user = _EXCHANGE.format(prompt=prompt.strip(), response=response.strip())
    return [{"role": "system", "content": system}, {"role": "user", "content": user}]


@dataclass(frozen=True)
class CheckedTurn:
    """What an LLM-backed user needs for one follow-up: the chat `messages` to send, and the
    checkers' ground truth (`violated` ids in persona order, `checked` id -> passed)."""

    messages: list[dict[str, str]]
    violated: tuple[str, ...]
    checked: dict[str, bool | None]

    def meta(self, **extra: Any) -> dict[str, Any]:
        """FollowUp meta: the checkers' verdicts first, then the backend's own fields."""
        return {"irrelevant": False, "checked": dict(self.checked), **extra}


def checked_turn(
    prompt: str, response: str, active: Sequence[Preference], background: str, show_checks: bool,
    scorer: Scorer = CHECKERS_ONLY,
) -> CheckedTurn:
    """Score `response` on the active preferences and render the user prompt, showing the
    verdicts to the LLM only when `show_checks`; the scorer (checkers, and the run's judge for
    rubric wishes), not the LLM, decides `violated`. An unscored wish is shown unmarked."""
    outcomes = dict(zip((p.id for p in active), scorer.outcomes([(p, prompt, response) for p in active])))
    checks = {pid: CheckResult(o.passed, o.evidence) for pid, o in outcomes.items() if o.passed is not None}
    messages = render_user_messages(prompt, response, active, background, checks if show_checks else None)
    return CheckedTurn(
        messages=messages,
        violated=tuple(p.id for p in active if outcomes[p.id].passed is False),
        checked={pid: o.passed for pid, o in outcomes.items()},
    )


def _broken_note(result: CheckResult) -> str:
    evidence = " ".join(result.evidence.split())
    return f" (this answer breaks it: {evidence})" if evidence else " (this answer breaks it)"


def prompt_hash(messages: Sequence[Mapping[str, str]]) -> str:
    """sha256 of the messages as canonical JSON: identifies the exact prompt sent."""
    canonical = json.dumps(list(messages), sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


# "User:", "Next message:", "Here's my next message:", "Your reply:" ... at the very start.
_LABEL = re.compile(
    r"^(?:(?:here(?:'s| is)\s+)?(?:my|your|the)?\s*(?:next\s+)?(?:message|reply|response|follow-up)|user)\s*:\s*",
    re.IGNORECASE,
)


def clean_follow_up(text: str) -> str:
    """Strip the wrappers small models add around a message: quotes, labels, extra lines.

    Keeps only the first paragraph, since the prompt asks for one short message and
    anything after a blank line is the model continuing the conversation on its own.
    """
    text = _LABEL.sub("", text.strip()).strip()
    text = text.split("\n\n", 1)[0].strip()
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "\"'":
        text = text[1:-1].strip()
    return " ".join(text.split())
