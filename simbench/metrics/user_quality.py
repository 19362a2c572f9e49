"""How many of a run's follow-ups failed the LLM user's quality gate (users/gate.py), from
interactions.jsonl alone: the share a report shows, and whether it makes the simulator unfit."""

from __future__ import annotations

from collections import Counter
from typing import Any, Sequence

from simbench.logs.schema import InteractionRecord

# Above this share of flagged follow-ups a run's user simulator is called unfit for it.
UNFIT_SHARE = 0.2


def follow_up_quality(interactions: Sequence[InteractionRecord]) -> dict[str, Any]:
    """{"follow_ups", "gated", "flagged", "share", "reasons", "unfit"}.

    Only follow-ups that went through the gate count (LLM users; the rules user writes its
    text from checked templates and irrelevant-by-design messages are not judged);
    `share` is None when none did. `reasons` counts each gate flag.
    """
    gated = [r for r in interactions if isinstance(r.user_meta.get("gate"), dict)]
    flagged = [r for r in gated if r.user_meta["gate"].get("flags")]
    reasons = Counter(flag for r in flagged for flag in r.user_meta["gate"]["flags"])
    share = len(flagged) / len(gated) if gated else None
    return {
        "follow_ups": len(interactions),
        "gated": len(gated),
        "flagged": len(flagged),
        "share": share,
        "reasons": dict(sorted(reasons.items())),
        "unfit": share is not None and share > UNFIT_SHARE,
    }
