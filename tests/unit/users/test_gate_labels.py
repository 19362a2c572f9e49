"""The quality gate measured on follow-ups SmolLM2-135M wrote as simbench's LLM user, each
labelled by reading it: `user` (a plausible user message) or `assistant` (written as the
assistant). The gate's rules were tuned on the dev half only; the held-out half's scores are
pinned here at what was measured once the rules were fixed (docs/user-gate.md).
"""

from __future__ import annotations

import hashlib
import json
from fractions import Fraction
from pathlib import Path

from simbench.users import gate

LABELS = Path(__file__).with_name("gate_labels.jsonl")
# The flags that say a reply is not a user's message at all; the others (a missed or broken
# wish) judge a user message's content, which the labels do not.
NOT_A_USER = {gate.ROLE_FLIP, gate.LABEL_LEAK, gate.ECHO}
SPLIT_SALT = "gate-split"


def rows() -> list[dict]:
    return [json.loads(line) for line in LABELS.read_text(encoding="utf-8").splitlines()]


def half(row: dict) -> str:
    """`dev` or `held_out`, from a hash of the reply's exchange (`group`), so the replies
    sampled for one answer never sit on both sides."""
    digest = hashlib.sha256(f"{SPLIT_SALT}:{row['group']}".encode()).hexdigest()
    return "dev" if int(digest, 16) % 2 == 0 else "held_out"


def flagged(row: dict) -> bool:
    return bool(NOT_A_USER & set(gate.problems(row["text"], row["answer"], [], [])))


def scores(selected: list[dict]) -> dict[str, int]:
    """Counts with `assistant` as the positive class (what the gate should flag)."""
    return {
        "tp": sum(flagged(r) and r["label"] == "assistant" for r in selected),
        "fp": sum(flagged(r) and r["label"] == "user" for r in selected),
        "fn": sum(not flagged(r) and r["label"] == "assistant" for r in selected),
        "tn": sum(not flagged(r) and r["label"] == "user" for r in selected),
    }


def test_the_labelled_set_is_well_formed():
    data = rows()
    assert len(data) >= 100 and len({r["id"] for r in data}) == len(data)
    for r in data:
        assert set(r) == {"id", "group", "text", "answer", "label", "reason", "persona", "source"}
        assert r["label"] in ("user", "assistant") and r["reason"].strip() and r["text"].strip()
    assert {half(r) for r in data} == {"dev", "held_out"}


# What the held-out half scored when the rules were fixed (38 of 39 flagged replies were
# assistant-style; 38 of its 51 assistant-style replies were flagged); deterministic, so never lower.
HELD_OUT_PRECISION = Fraction(38, 39)
HELD_OUT_RECALL = Fraction(38, 51)


def test_held_out_precision_and_recall_stay_at_their_measured_values():
    counts = scores([r for r in rows() if half(r) == "held_out"])
    precision = Fraction(counts["tp"], counts["tp"] + counts["fp"])
    recall = Fraction(counts["tp"], counts["tp"] + counts["fn"])
    assert precision >= HELD_OUT_PRECISION and recall >= HELD_OUT_RECALL, counts


def test_dev_half_scores_stay_at_their_tuned_values():
    # The dev half the rules were tuned on: 44 of its 53 assistant-style replies flagged.
    counts = scores([r for r in rows() if half(r) == "dev"])
    assert counts["tp"] >= 44 and counts["fp"] <= 1
