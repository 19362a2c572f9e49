"""One teachability row per preference, and the verdict read from it. Pure: no model, no IO.

A row answers, before a long run, whether a model can teach itself a preference: is there
anything to learn (frozen adherence), can an answer pass at all under the token cap, does a
relevant follow-up move the model more than an unrelated one (hindsight sensitivity), and do
a few SDPO updates with relevant follow-ups beat the same updates with unrelated ones on
held-out prompts (micro-run gap, paired by prompt).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any, Sequence

from simbench.metrics.paired_gap import PairedGap, paired_gap

SATURATED = 0.8
"""Frozen adherence at or above which there is little left to learn."""

# The decision each preference's behaviour turns on where the signal can be read at one token:
# length preferences hinge on ending the turn after a sentence (docs/LOG.md, 2026-11-26 and
# 2026-12-06). Others are spread over many tokens; their end-of-turn shift is still reported,
# as generic drift.
HINGES_ON_END_OF_TURN = frozenset({"concise", "detailed", "elaborate"})

VERDICTS = {
    "unreachable": "no answer within the token cap can pass",
    "saturated": f"the frozen model already passes >= {SATURATED:.0%} of probes",
    "teachable": "relevant follow-ups beat unrelated ones (paired interval above 0)",
    "unspecific": "adherence moved, but not more than with unrelated follow-ups",
    "not shown": "no measurable movement at this size",
}


@dataclass(frozen=True)
class Sensitivity:
    """Hindsight signal on the responses the first update trains on (one case per response).

    Mean |A| under the relevant vs an unrelated follow-up, cases where relevant moved the
    log-probs more, and the mean change of P(end of turn) right after each sentence end.
    """

    cases: int
    mean_abs_relevant: float
    mean_abs_unrelated: float
    relevant_wins: int
    stop_shift_relevant: float
    stop_shift_unrelated: float

    @property
    def ratio(self) -> float | None:
        ok = math.isfinite(self.mean_abs_relevant) and math.isfinite(self.mean_abs_unrelated)
        return self.mean_abs_relevant / self.mean_abs_unrelated if ok and self.mean_abs_unrelated > 0 else None


@dataclass(frozen=True)
class MicroRun:
    """k SDPO updates from the same start with relevant vs unrelated follow-ups; per held-out
    probe prompt whether the answer afterwards passes (same prompts, same order in both)."""

    steps: int
    relevant_passes: tuple[bool, ...]
    unrelated_passes: tuple[bool, ...]
    gap: PairedGap

    @property
    def relevant_adherence(self) -> float:
        return _share(self.relevant_passes)

    @property
    def unrelated_adherence(self) -> float:
        return _share(self.unrelated_passes)


@dataclass(frozen=True)
class TeachabilityRow:
    preference: str
    frozen_adherence: float
    probes: int
    min_tokens: int
    reachable: bool
    sensitivity: Sensitivity
    micro: MicroRun

    @property
    def verdict(self) -> str:
        return verdict(self)

    def to_dict(self) -> dict[str, Any]:
        sensitivity = {**asdict(self.sensitivity), "ratio": self.sensitivity.ratio}
        micro = {
            "steps": self.micro.steps,
            "relevant_adherence": self.micro.relevant_adherence,
            "unrelated_adherence": self.micro.unrelated_adherence,
            "relevant_passes": list(self.micro.relevant_passes),
            "unrelated_passes": list(self.micro.unrelated_passes),
            "gap": self.micro.gap.to_dict(),
        }
        return {
            "preference": self.preference,
            "frozen_adherence": self.frozen_adherence,
            "probes": self.probes,
            "min_tokens": self.min_tokens,
            "reachable": self.reachable,
            "hinges_on_end_of_turn": self.preference in HINGES_ON_END_OF_TURN,
            "sensitivity": {k: _finite(v) for k, v in sensitivity.items()},
            "micro_run": micro,
            "verdict": self.verdict,
        }


def micro_run(
    steps: int, relevant: Sequence[bool], unrelated: Sequence[bool], resamples: int, seed: int
) -> MicroRun:
    """A `MicroRun` with the paired bootstrap gap of relevant over unrelated."""
    gap = paired_gap([float(p) for p in relevant], [float(p) for p in unrelated], resamples=resamples, seed=seed)
    return MicroRun(steps, tuple(map(bool, relevant)), tuple(map(bool, unrelated)), gap)


def verdict(row: TeachabilityRow) -> str:
    """One word on the row (keys of `VERDICTS`), checked in this order: an unreachable or
    saturated preference has nothing to teach, whatever the micro-run says."""
    if not row.reachable:
        return "unreachable"
    if row.frozen_adherence >= SATURATED:
        return "saturated"
    if row.micro.gap.low > 0:
        return "teachable"
    if max(row.micro.relevant_adherence, row.micro.unrelated_adherence) > row.frozen_adherence:
        return "unspecific"
    return "not shown"


def _share(passes: Sequence[bool]) -> float:
    return sum(passes) / len(passes) if passes else float("nan")


def _finite(value: Any) -> Any:
    return None if isinstance(value, float) and not math.isfinite(value) else value
