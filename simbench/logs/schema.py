"""Versioned record schemas of a run folder. Metrics and reports are functions of these alone.

A run folder holds `manifest.json` (`Manifest`) and three append-only JSONL logs:
`interactions.jsonl` (`InteractionRecord`), `updates.jsonl` (`UpdateLogRecord`) and
`probes.jsonl` (`ProbeRecord`: one record per probe prompt per probe time, with every
preference the persona ever holds checked on it), plus `general.jsonl` (`GeneralRecord`,
general-capability answers) and `drift.jsonl` (`DriftRecord`, NLL and KL to the frozen model
on fixed texts) for collateral drift. Runs made before drift.jsonl existed lack it; metrics
then say "not measured".
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

SCHEMA_VERSION = 1


class _Record(BaseModel):
    model_config = ConfigDict(extra="forbid")
    v: int = Field(SCHEMA_VERSION, description="Schema version of this record.")


class PhaseInfo(BaseModel):
    model_config = ConfigDict(extra="forbid")
    at: int = Field(description="Interaction index at which this phase starts.")
    preferences: list[str] = Field(description="Preference ids active during this phase.")


class CheckOutcome(BaseModel):
    model_config = ConfigDict(extra="forbid")
    passed: bool = Field(description="Whether the response satisfies the preference.")
    evidence: str = Field("", description="What violated it (empty when passed).")


class ProbeRecord(_Record):
    """One held-out probe prompt answered (greedy) at probe time `t`."""

    t: int = Field(description="Interactions completed before this probe (0 = before any).")
    probe_id: str = Field(description="Id of the probe prompt.")
    prompt: str = Field(description="The probe prompt text.")
    response: str = Field(description="The policy's greedy answer.")
    checks: dict[str, CheckOutcome] = Field(
        description="Checker outcome for every preference the persona ever holds."
    )
    tokens: int = Field(0, description="Number of generated tokens.")
    seconds: float = Field(0.0, description="This prompt's share of the probe's wall time.")


class GeneralRecord(_Record):
    """One general-capability question answered (greedy) at probe time `t` (drift check)."""

    t: int = Field(description="Interactions completed before this probe.")
    id: str = Field(description="Id of the general-capability question.")
    response: str = Field(description="The policy's greedy answer.")
    correct: bool = Field(description="Whether the expected answer (or an alias) appears.")


class DriftRecord(_Record):
    """One fixed text scored at probe time `t` by the policy and by the frozen model."""

    t: int = Field(description="Interactions completed before this probe.")
    id: str = Field(description="Id of the drift item (a general-text passage or question).")
    kind: str = Field(description='"text" (plain passage) or "qa" (a general question\'s answer).')
    tokens: int = Field(description="Scored tokens.")
    nll: float | None = Field(description="Policy's mean negative log-likelihood per scored token "
                                          "(nats; null when not finite).")
    nll_frozen: float | None = Field(description="The frozen model's mean NLL on the same tokens (nats).")
    kl: float | None = Field(description="Mean per-token KL(frozen || policy) over the vocabulary (nats).")
    seconds: float = Field(0.0, description="This item's share of the scoring wall time.")


class InteractionRecord(_Record):
    """One assistant turn that received a user follow-up."""

    t: int = Field(description="Index of the interaction (0-based).")
    turn: int = Field(0, description="Follow-up turn within the interaction (0-based).")
    prompt_id: str = Field(description="Id of the training prompt that opened the interaction.")
    messages: list[dict[str, str]] = Field(description="Chat history the policy answered.")
    response: str = Field(description="The policy's response.")
    follow_up: str = Field(description="The simulated user's next message.")
    violated: list[str] = Field(default_factory=list, description="Preferences reacted to.")
    active: list[str] = Field(description="Preference ids active at this interaction.")
    irrelevant: bool = Field(False, description="Whether the follow-up was noise by design.")
    tokens: int = Field(0, description="Generated tokens in the response.")
    seconds: dict[str, float] = Field(default_factory=dict, description="Time by stage.")
    user_meta: dict[str, Any] = Field(default_factory=dict, description="User backend details.")


class UpdateLogRecord(_Record):
    """One learner update (or a skipped one)."""

    update: int = Field(description="Update counter (0-based).")
    t: int = Field(description="Interactions completed when the update ran.")
    skipped: bool = Field(False, description="True when the step was not applied.")
    reason: str = Field("", description="Why it was skipped (non-finite loss, ...).")
    stats: dict[str, Any] = Field(default_factory=dict, description="Loss, advantages, KL, ...")
    seconds: float = Field(0.0, description="Wall time of the update.")
