"""HelpSteer2 and TL;DR rows as prompt-pool items (id, text, category).

Pools are deduplicated on the text as `simbench.prompts` compares it (case and whitespace
ignored), and ids are a hash of that text, so converting a newer copy of a data set keeps
the ids of the prompts it shares with an older one.
"""

from __future__ import annotations

import hashlib
from typing import Any

from simbench.prompts import normalise_text

# HelpSteer2 writes a multi-turn prompt as one string with these turn markers; a pool item is
# one user message, so such prompts are left out.
HELPSTEER_TURN_MARKER = "<extra_id_1>"
TLDR_INSTRUCTION = "Summarize this Reddit post."
TLDR_CUE = "TL;DR:"


def prompt_id(prefix: str, text: str) -> str:
    return f"{prefix}-{hashlib.sha256(normalise_text(text).encode()).hexdigest()[:12]}"


def helpsteer2_prompt(row: dict[str, Any]) -> str | None:
    """The row's prompt, or None for a multi-turn one (HelpSteer2 rates several responses per
    prompt, so the same prompt repeats; deduplication keeps one)."""
    text = _text(row["prompt"])
    if text is None or HELPSTEER_TURN_MARKER in text:
        return None
    return text


def tldr_prompt(row: dict[str, Any]) -> str | None:
    """A request to summarise the row's post. TL;DR prompts are completion-style ("SUBREDDIT:
    ... POST: ... TL;DR:"); the trailing cue is replaced by an instruction a chat user gives."""
    text = _text(row["prompt"])
    if text is None:
        return None
    if text.endswith(TLDR_CUE):
        text = text[: -len(TLDR_CUE)].rstrip()
    return f"{TLDR_INSTRUCTION}\n\n{text}" if text else None


def _text(value: Any) -> str | None:
    if not isinstance(value, str) or not value.strip():
        return None
    return value.strip()
