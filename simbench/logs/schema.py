"""Versioned record schemas of a run folder. Metrics and reports are functions of these alone.

A run folder holds `manifest.json` (`Manifest`: the typed config, persona and prompt-pool
provenance, package versions, status) and append-only JSONL logs: `interactions.jsonl`
(`InteractionRecord`), `updates.jsonl` (`UpdateLogRecord`), `probes.jsonl` (`ProbeRecord`:
one record per probe prompt per probe time, with every preference the persona ever holds
checked on it), `general.jsonl` (`GeneralRecord`, general-capability answers) and
`drift.jsonl` (`DriftRecord`, NLL and KL to the frozen model on fixed texts) for collateral
drift, and `signals.jsonl` (`SignalRecord`, per-token advantages of a few SDPO samples).
Runs made before drift.jsonl existed lack it; metrics then say "not measured".
`simbench schema manifest` prints the manifest's JSON Schema. `logs/run_folder.py` reads a
folder into these types.
"""

from __future__ import annotations

from enum import Enum
from typing import Any, Optional

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_serializer, model_validator

from simbench.config import RunConfig

SCHEMA_VERSION = 1
"""Version of the manifest and of every record. Readers accept any version up to this one
(fields added since have defaults) and refuse newer folders instead of misreading them."""


class _Record(BaseModel):
    model_config = ConfigDict(extra="forbid")
    v: int = Field(SCHEMA_VERSION, description="Schema version of this record.")


class PhaseInfo(BaseModel):
    model_config = ConfigDict(extra="forbid")
    at: int = Field(description="Interaction index at which this phase starts.")
    preferences: list[str] = Field(description="Preference ids active during this phase.")


class CheckOutcome(BaseModel):
    model_config = ConfigDict(extra="forbid")
    passed: Optional[bool] = Field(
        description="Whether the response satisfies the preference; null when it was not scored "
        "(a judge-scored preference without a judge, or an unreadable verdict)."
    )
    evidence: str = Field("", description="What violated it (empty when passed), or why it was not scored.")
    scorer: str = Field(
        "checker", description='Who decided: "checker", "judge" (the run\'s judge, by the rubric) or "none".'
    )

    @model_serializer(mode="wrap")
    def _checker_implied(self, handler: Any) -> dict[str, Any]:
        # A checker's outcome is written as before judges existed, so seeded logs stay byte-identical.
        data = handler(self)
        if data.get("scorer") == "checker":
            del data["scorer"]
        return data


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

    @field_validator("messages")
    @classmethod
    def _messages_have_role_and_content(cls, messages: list[dict[str, str]]) -> list[dict[str, str]]:
        # Reports print the prompt from the last message: one without content is a broken log.
        for index, message in enumerate(messages):
            missing = [repr(key) for key in ("role", "content") if key not in message]
            if missing:
                raise ValueError(f"message {index} has no {' or '.join(missing)}")
        return messages


class UpdateLogRecord(_Record):
    """One learner update (or a skipped one)."""

    update: int = Field(description="Update counter (0-based).")
    t: int = Field(description="Interactions completed when the update ran.")
    skipped: bool = Field(False, description="True when the step was not applied.")
    reason: str = Field("", description="Why it was skipped (non-finite loss, ...).")
    stats: dict[str, Any] = Field(default_factory=dict, description="Loss, advantages, KL, ...")
    seconds: float = Field(0.0, description="Wall time of the update.")


class SignalRecord(BaseModel):
    """Per-token hindsight advantages of one SDPO sample of an update (report colouring).

    Carries no `v`: signal lines predate record versions; their version is the manifest's."""

    model_config = ConfigDict(extra="forbid")
    update: int = Field(description="Update counter the sample belongs to.")
    t: int = Field(description="Interaction of the sample.")
    turn: int = Field(0, description="Follow-up turn of the sample.")
    response: str = Field(description="The policy's response.")
    follow_up: str = Field(description="The follow-up the teacher saw (unrelated in the control arm).")
    tokens: list[str] = Field(description="The response tokens, decoded one by one.")
    advantages: list[Optional[float]] = Field(
        description="Per-token advantage; null where it was not finite (a skipped update)."
    )

    @model_validator(mode="after")
    def _one_advantage_per_token(self) -> SignalRecord:
        if len(self.tokens) != len(self.advantages):
            raise ValueError("needs 'tokens' and 'advantages' lists of equal length")
        return self


class RunStatus(str, Enum):
    """How far a run got: `running` until a session ends, then how that session ended."""

    RUNNING = "running"
    COMPLETE = "complete"
    INTERRUPTED = "interrupted"  # Ctrl-C at a batch boundary; --resume continues
    USER_ERROR = "user_error"  # the user simulator failed; never counted against the learner
    NUMERICAL_ERROR = "numerical_error"  # repeated non-finite updates

    def __str__(self) -> str:
        # Printed as its value ("complete"), as json and the manifests write it; Python 3.11's
        # str-mixin enums would otherwise print "RunStatus.COMPLETE" in every f-string.
        return self.value


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class PersonaProvenance(_Strict):
    """Which persona a run played, and enough of it for metrics without the persona file."""

    id: str = Field("", description="Persona id.")
    name: str = Field("", description="Persona display name.")
    file: str = Field("", description="Persona file the run read.")
    file_sha256: str = Field("", description="SHA-256 of that file's bytes.")
    content_hash: str = Field("", description="Hash of the parsed persona (stable across formatting).")
    schedule: list[PhaseInfo] = Field(description="Phases: from which interaction which preferences hold.")
    ever: list[str] = Field(default_factory=list, description="Every preference the persona ever holds.")
    opposites: dict[str, str] = Field(
        default_factory=dict, description="Preference -> its opposite (what tells a flip from a drop)."
    )
    min_tokens: Optional[dict[str, int]] = Field(
        None, description="Shortest answer (tokens) that can pass each preference; absent in older runs."
    )
    scenario: str = Field("", description="single | flip | complementary | ... (persona engine).")
    irrelevant_rate: float = Field(0.0, description="Share of follow-ups unrelated by design.")


class PoolProvenance(_Strict):
    """One prompt pool as the run used it."""

    n: int = Field(description="Prompts used.")
    sha256: str = Field("", description="Hash of the pool's ids and texts.")
    ids: list[str] = Field(default_factory=list, description="Ids used, in order (probe and general pools).")


class PromptsProvenance(_Strict):
    train: Optional[PoolProvenance] = None
    probe: Optional[PoolProvenance] = None
    general: Optional[PoolProvenance] = None
    drift: Optional[PoolProvenance] = Field(None, description="Drift items scored at every probe (texts + general questions).")


class Session(_Strict):
    """One invocation of `run` / `--resume` on the folder and how it ended."""

    status: RunStatus
    t: int = Field(description="Interactions done when the session ended.")
    seconds: float = Field(0.0, description="Wall time of the session.")
    peak_rss_mb: float = Field(0.0, description="Peak resident memory of the process so far.")
    message: str = Field("", description="Why it stopped, for anything but complete.")
    failure: str = Field("", description="'user_simulator' or 'numerical' for failed sessions.")


class Manifest(_Strict):
    """`manifest.json`: what a run is (config, persona, prompts, code) and how far it got."""

    schema_version: int = Field(SCHEMA_VERSION, description="Version of the run-folder schema.")
    simbench_version: str = Field("", description="simbench package version that wrote the run.")
    created: str = Field("", description="UTC time the run started (ISO 8601).")
    status: RunStatus = Field(RunStatus.RUNNING, description="How far the run got.")
    config: RunConfig = Field(default_factory=RunConfig, description="The run's settings (secrets dropped).")
    learner: str = Field(description="Learning arm (= config.learner).")
    feedback: Optional[str] = Field(
        None, description='What the learner learns from: "user" follow-ups, "unrelated" messages (a '
        "control arm, learners/unrelated.py), or null for arms that ignore feedback.")
    learner_alias_of: Optional[str] = Field(None, description="The twin an older learner name stands for.")
    model: str = Field("", description="Policy model (= config.model).")
    user: str = Field("", description="User simulator (= config.user).")
    seed: int = Field(description="Run seed (= config.seed).")
    interactions: int = Field(ge=1, description="Episode length (after --interactions).")
    persona: PersonaProvenance
    prompts: PromptsProvenance = Field(default_factory=PromptsProvenance)
    versions: dict[str, str] = Field(default_factory=dict, description="Package versions.")
    python: str = Field("", description="Python version.")
    platform: str = Field("", description="OS and machine.")
    cpu_flags: str = Field("", description="SIMD extensions of the CPU (avx2, avx512f, amx_bf16, ...): "
                           "they choose torch's kernels, so timings and fp32 low bits differ with them.")
    git_commit: str = Field("unknown", description="simbench commit ('+dirty' when modified).")
    warnings: list[str] = Field(default_factory=list, description="Settings that make part of the run moot.")
    judge: Optional[dict[str, str]] = Field(
        None, description="The judge that scored the rubric preferences (name, model, base_url, "
        "template_hash of its prompts); absent when the run had none.")
    matmul_path: Optional[str] = Field(
        None, description='The matmul path the run used ("fp32" or "bf16", from config.precision and '
        "the CPU); absent for runs on the default fp32 path.")
    matmul_reason: Optional[str] = Field(
        None, description="Why that path: asked for, or the start-up measurement auto chose by (the "
        "known-error probe and fp32-vs-bf16 timings, with the CPU and date); absent with matmul_path.")
    position: Optional[int] = Field(None, description="Interactions done at the last session end.")
    sessions: list[Session] = Field(default_factory=list, description="Every session, in order.")
    peak_rss_mb: Optional[float] = Field(None, description="Highest peak_rss_mb over the sessions.")

    def to_json(self) -> dict[str, Any]:
        """The manifest as written: JSON types; optional fields not known yet (position before
        a session ends, ...) left out, the config in full (its nulls mean 'default')."""
        data = self.model_dump(mode="json", exclude_none=True)
        data["config"] = self.config.model_dump(mode="json")
        return data
