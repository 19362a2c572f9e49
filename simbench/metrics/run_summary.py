"""The typed summary of one run (`RunSummary`), what `summarise_run` returns and every report
reads. Numbers a run cannot have (NaN, inf: nothing measured, not applicable) are null.

`simbench schema summary` prints its JSON Schema. Versioned like the logs: readers accept any
`schema_version` up to `SUMMARY_VERSION`.
"""

from __future__ import annotations

from typing import Optional

from pydantic import BaseModel, ConfigDict, Field

SUMMARY_VERSION = 1
"""Version of `RunSummary`; fields added later get defaults so older summaries still read."""


class _Part(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Phase(_Part):
    """One phase of the persona's schedule."""

    index: int = Field(description="Phase number, from 0 (reports show it from 1).")
    start: int = Field(description="First interaction of the phase.")
    end: int = Field(description="Interaction at which the phase ends (the next one's start, or T).")
    preferences: list[str] = Field(description="Preference ids active during the phase.")


class Adherence(_Part):
    """Adherence s(t) of one preference: the share of probe prompts passing it at each probe time."""

    t: list[int] = Field(description="Probe times (interactions completed).")
    s: list[Optional[float]] = Field(description="Share of probe prompts passing the preference at each time.")


class AdaptationRow(_Part):
    """How one newly active preference was adopted (metrics/adaptation.py)."""

    phase: int = Field(description="Phase (from 0) in which the preference became active.")
    preference: str = Field(description="The newly active preference.")
    start: int = Field(description="First interaction of that phase.")
    end: int = Field(description="End of that phase.")
    b: Optional[float] = Field(description="Baseline adherence (frozen arm, else the run at t=0); null when unknown.")
    c: Optional[float] = Field(description="Ceiling adherence (in-context oracle, else 1).")
    n_probes: int = Field(description="Probe times inside the phase.")
    steps_to_threshold: Optional[int] = Field(
        description="Interactions until g >= threshold held for `sustain` probes; null when censored or not applicable.")
    censored: bool = Field(description="The threshold was never sustained within the phase.")
    aulc: Optional[float] = Field(description="Mean normalised gain g over the phase's probes (area under the curve).")
    final_s: Optional[float] = Field(description="Raw adherence at the phase's last probe.")
    final_g: Optional[float] = Field(description="Normalised gain at the phase's last probe.")
    flags: list[str] = Field(description="Why a value is missing or not applicable (no_headroom, not_scored, ...).")
    baseline_note: str = Field(description="Where b and c came from, in words.")
    aulc_ci: list[Optional[float]] = Field(description="95% bootstrap interval of `aulc` over probe prompts [lo, hi].")
    final_s_ci: list[Optional[float]] = Field(description="95% bootstrap interval of `final_s` over probe prompts.")


class UnlearningRow(_Part):
    """How fast a preference faded after it stopped being wanted (metrics/unlearning.py)."""

    preference: str = Field(description="The preference that stopped being wanted.")
    kind: str = Field(description='"flip" (replaced by its opposite) or "drop" / "revert".')
    replaced_by: Optional[str] = Field(description="The opposite that replaced it, for a flip.")
    phase: int = Field(description="Phase (from 0) in which it is no longer wanted.")
    start: int = Field(description="τ: the interaction at which it stopped being wanted.")
    end: int = Field(description="End of that phase.")
    b: Optional[float] = Field(description="Baseline adherence to the old preference.")
    s_at_change: Optional[float] = Field(description="s(τ): adherence at the last probe at or before τ.")
    n_probes: int = Field(description="Probe times after τ inside the phase.")
    steps_to_unlearn: Optional[int] = Field(description="Interactions from τ until U >= threshold was sustained.")
    censored: bool = Field(description="U never reached the threshold within the phase.")
    perseveration: Optional[float] = Field(description="mean(1 - U) after τ (lower is better); null: nothing to unlearn.")
    final_s: Optional[float] = Field(description="Adherence to the old preference at the phase's last probe.")
    final_u: Optional[float] = Field(description="Unlearning score U at the phase's last probe.")
    flags: list[str] = Field(description="Why a value is missing or not applicable (nothing_to_unlearn, ...).")
    baseline_note: str = Field(description="Where b came from, in words.")


class Forgetting(_Part):
    """Forgetting on a complementary schedule: the R matrix and its summaries (metrics/forgetting.py)."""

    preferences: list[str] = Field(description="Columns of R: the schedule's preferences in order of introduction.")
    learned_row: list[int] = Field(description="Row of R in which each preference was introduced.")
    R: list[list[Optional[float]]] = Field(description="Adherence to each preference: row 0 b, row i the end of phase i.")
    acc: Optional[float] = Field(description="ACC: mean adherence at the end of the episode (higher is better).")
    bwt: Optional[float] = Field(description="BWT: backward transfer (negative when later phases erode earlier ones).")
    forgetting: Optional[float] = Field(description="Chaudhry forgetting F (lower is better).")
    min_acc: Optional[float] = Field(description="Lowest adherence to any preference after it was learned.")
    min_after_learned: dict[str, Optional[float]] = Field(description="Per preference: lowest adherence after learned.")


class GeneralDrift(_Part):
    """General-capability accuracy over the run (general.jsonl)."""

    t: list[int] = Field(description="Probe times of the general-capability questions.")
    accuracy: list[Optional[float]] = Field(description="Accuracy on the general questions at each time.")
    drift: list[Optional[float]] = Field(description="Accuracy change since t=0.")
    abs_drift: list[Optional[float]] = Field(description="|accuracy change since t=0|.")
    retained: list[Optional[float]] = Field(description="Accuracy on the questions right at t=0 (1 = nothing lost).")
    right_at_start: int = Field(description="How many questions were right at t=0.")


class CollateralDrift(_Part):
    """Distance from the frozen model on fixed texts per probe time (drift.jsonl)."""

    measured: bool = Field(description="The run has drift.jsonl (runs made before it existed: false).")
    t: list[int] = Field(description="Probe times.")
    kl: list[Optional[float]] = Field(description="KL(frozen || policy) per token, mean over the fixed texts, in nats.")
    abs_nll_change: list[Optional[float]] = Field(description="|NLL(policy) - NLL(frozen)| per token, mean, in nats.")
    nll: list[Optional[float]] = Field(description="The policy's NLL per token, mean.")
    nll_frozen: list[Optional[float]] = Field(description="The frozen model's NLL per token, mean.")
    items: int = Field(description="Fixed texts and general answers scored.")


class Cost(_Part):
    """What the run cost per interaction (metrics/cost.py)."""

    interactions: int = Field(description="Distinct interactions logged.")
    updates: int = Field(description="Update records (skipped ones included).")
    skipped_updates: int = Field(description="Updates that were skipped.")
    seconds_per_interaction: dict[str, Optional[float]] = Field(
        description='Seconds per interaction by stage ("generate", "user", "update", "probe") and their "total".')
    tokens_per_interaction: Optional[float] = Field(description="Generated tokens per interaction.")
    probe_tokens_per_response: Optional[float] = Field(description="Generated tokens per probe answer.")
    peak_memory_mb: dict[str, Optional[float]] = Field(description="Largest peak memory seen, by kind, in MiB.")
    wall_seconds_per_interaction: Optional[float] = Field(
        None, description="Recorded wall time of the run's sessions per interaction (null while it runs).")


class UserQuality(_Part):
    """The LLM-user quality gate's verdicts on the run's follow-ups."""

    follow_ups: int = Field(description="Interactions (each with its user follow-up).")
    gated: int = Field(description="Follow-ups the LLM-user quality gate looked at.")
    flagged: int = Field(description="Gated follow-ups the gate flagged.")
    share: Optional[float] = Field(description="flagged / gated; null when nothing was gated.")
    reasons: dict[str, int] = Field(description="Flags by reason.")
    unfit: bool = Field(description="The flagged share is over the gate's limit: the user simulator is unfit.")


class Headline(_Part):
    """Run-level means (not-applicable rows left out)."""

    aulc: Optional[float] = Field(description="Mean AULC over the applicable adaptation rows.")
    final_s: Optional[float] = Field(description="Mean final adherence over the applicable adaptation rows.")
    steps_to_threshold: Optional[float] = Field(description="Mean steps to threshold (censored: the phase length).")
    censored: int = Field(description="Applicable adaptation rows that never sustained the threshold.")
    perseveration: Optional[float] = Field(description="Mean perseveration over the flip rows.")
    steps_to_unlearn: Optional[float] = Field(description="Mean steps to unlearn over the flip rows.")
    acc: Optional[float] = Field(description="ACC of a complementary schedule, else null.")
    bwt: Optional[float] = Field(description="BWT of a complementary schedule, else null.")


class RunSummary(_Part):
    """Every metric of one run, from its logs (and its frozen / oracle baselines) alone."""

    schema_version: int = Field(SUMMARY_VERSION, le=SUMMARY_VERSION, description="Version of this summary's schema.")
    learner: str = Field(description="The learning arm.")
    seed: int = Field(description="The run's seed: the simulated user.")
    episode_length: int = Field(description="Interactions in the episode (T).")
    scenario: str = Field(description="Scenario type of the schedule: single, profile, flip, drop, revert, complementary.")
    threshold: float = Field(description="Normalised gain counted as adopted (steps to threshold).")
    sustain: int = Field(description="Consecutive probes the threshold must hold for.")
    phases: list[Phase] = Field(description="The schedule's phases.")
    adherence: dict[str, Adherence] = Field(description="Adherence curve per preference the probes checked.")
    adaptation: list[AdaptationRow] = Field(description="One row per newly active preference.")
    unlearning: list[UnlearningRow] = Field(description="One row per preference that stopped being wanted.")
    forgetting: Optional[Forgetting] = Field(description="R matrix and summaries; complementary schedules only.")
    general_drift: Optional[GeneralDrift] = Field(description="General-capability accuracy over time; null without general.jsonl.")
    collateral_drift: CollateralDrift = Field(description="Distance from the frozen model on fixed texts.")
    cost: Cost = Field(description="What the run cost per interaction.")
    user_quality: UserQuality = Field(description="The LLM-user quality gate's verdicts on the follow-ups.")
    headline: Headline = Field(description="Run-level means the leaderboard reads.")
    not_scored: dict[str, str] = Field(
        default_factory=dict, description="Judge-scored preferences nobody scored, and why (empty for checker-scored runs).")
