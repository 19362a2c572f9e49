"""WildChat and WildFeedback rows as `simbench distill` conversations.

A conversation is kept only when it holds at least one turn the distiller learns from: a
user message, the assistant's answer, and a user message after it. It is cut after the last
such follow-up (a trailing answer teaches nothing). Messages keep `role` and `content`; a
WildFeedback satisfaction label goes on the follow-up it annotates as `feedback`, which the
distill reader accepts and ignores.
"""

from __future__ import annotations

from typing import Any

from sdpo.offline import ROLES, validate_conversation

# WildFeedback marks a user message as satisfied (SAT) and/or dissatisfied (DSAT) with the
# assistant answer before it.
LABELS = {(True, False): "satisfied", (False, True): "dissatisfied", (True, True): "mixed"}


def conversation(row: dict[str, Any], with_feedback: bool) -> list[dict[str, str]] | None:
    """The row's `conversation` as distill messages, or None when it has no learnable turn
    (or a message that is not a role/content pair with text)."""
    raw = row["conversation"]
    if not isinstance(raw, list):
        return None
    messages = []
    for item in raw:
        if not isinstance(item, dict):
            return None
        role, content = item.get("role"), item.get("content")
        if role not in ROLES or not isinstance(content, str) or not content.strip():
            return None
        message = {"role": role, "content": content}
        label = LABELS.get((item.get("SAT") is True, item.get("DSAT") is True)) if with_feedback else None
        if label is not None and role == "user":
            message["feedback"] = label
        messages.append(message)
    try:
        validate_conversation(messages)  # what the distill reader accepts, e.g. no lone surrogates
    except ValueError:
        return None
    end = _last_follow_up(messages)
    return messages[: end + 1] if end is not None else None


def _last_follow_up(messages: list[dict[str, str]]) -> int | None:
    """Index of the last user message that follows an assistant answer to a user message."""
    for i in range(len(messages) - 1, 1, -1):
        if (messages[i]["role"], messages[i - 1]["role"], messages[i - 2]["role"]) == ("user", "assistant", "user"):
            return i
    return None
