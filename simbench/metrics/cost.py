"""What a run cost: seconds per interaction by stage, generated tokens and peak memory, read
from interaction/update records and the manifest so arms can be compared at equal budget."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any, Mapping, Sequence

from simbench.logs.schema import InteractionRecord, ProbeRecord, UpdateLogRecord

# Peak-memory fields the runner may write (MiB), at the manifest's top level, under its
# "resources" object, or in an update's stats; the largest value seen is reported.
PEAK_MEMORY_KEYS = ("peak_rss_mb", "peak_gpu_mb")


@dataclass(frozen=True)
class RunCost:
    """Per-interaction costs of one run. `seconds_per_interaction` has one entry per stage
    ("generate" and "user" from InteractionRecord.seconds, "update", "probe") plus "total",
    their sum. `wall_seconds_per_interaction` is the recorded wall time of the run's
    sessions per interaction (None while it runs); the gap to "total" is model loading,
    checkpoints and logging."""

    interactions: int
    updates: int
    skipped_updates: int
    seconds_per_interaction: dict[str, float]
    tokens_per_interaction: float
    probe_tokens_per_response: float
    peak_memory_mb: dict[str, float]
    wall_seconds_per_interaction: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def run_cost(
    interactions: Sequence[InteractionRecord],
    updates: Sequence[UpdateLogRecord],
    probes: Sequence[ProbeRecord],
    manifest: Mapping[str, Any],
) -> RunCost:
    """Totals divided by the number of distinct interactions (an interaction's follow-up
    turns are charged to it).

    Update time comes from UpdateLogRecord.seconds (skipped updates included: their time
    was spent); an "update" key in interaction seconds is used only when there are no update
    records, so the same time is never counted twice. Probing time is the probe records'
    seconds scaled to the general-capability questions answered in the same batch (each
    record holds one answer's share of the batch).
    """
    n = len({record.t for record in interactions})
    totals: dict[str, float] = {}
    for record in interactions:
        for stage, seconds in record.seconds.items():
            totals[stage] = totals.get(stage, 0.0) + float(seconds)
    if updates:
        totals["update"] = sum(float(update.seconds) for update in updates)
    if probes:
        totals["probe"] = sum(float(p.seconds) for p in probes) * _answers_per_probe_answer(manifest, probes)
    per_interaction = {stage: total / n for stage, total in sorted(totals.items())} if n else {}
    if per_interaction:
        per_interaction["total"] = sum(per_interaction.values())
    wall = wall_seconds(manifest)
    return RunCost(
        interactions=n,
        updates=len(updates),
        skipped_updates=sum(1 for update in updates if update.skipped),
        seconds_per_interaction=per_interaction,
        tokens_per_interaction=sum(r.tokens for r in interactions) / n if n else float("nan"),
        probe_tokens_per_response=sum(p.tokens for p in probes) / len(probes) if probes else float("nan"),
        peak_memory_mb=peak_memory(manifest, updates),
        wall_seconds_per_interaction=wall / n if n and wall else None,
    )


def _answers_per_probe_answer(manifest: Mapping[str, Any], probes: Sequence[ProbeRecord]) -> float:
    """(probe prompts + general questions) / probe prompts of one probe batch."""
    prompts = manifest.get("prompts") or {}
    n_probe = (prompts.get("probe") or {}).get("n") or len({p.probe_id for p in probes})
    n_general = (prompts.get("general") or {}).get("n") or 0
    return (n_probe + n_general) / n_probe if n_probe else 1.0


def wall_seconds(manifest: Mapping[str, Any]) -> float | None:
    """Wall time of the run's finished sessions; None before the first one ends."""
    sessions = [s for s in manifest.get("sessions") or [] if isinstance(s, Mapping)]
    if not sessions or manifest.get("status") != "complete":
        return None
    return sum(float(s.get("seconds", 0.0)) for s in sessions)


def peak_memory(manifest: Mapping[str, Any], updates: Sequence[UpdateLogRecord]) -> dict[str, float]:
    """Largest value of each PEAK_MEMORY_KEYS field found; absent fields are left out."""
    sources: list[Mapping[str, Any]] = [manifest]
    if isinstance(manifest.get("resources"), Mapping):
        sources.append(manifest["resources"])
    sources.extend(update.stats for update in updates)
    peaks: dict[str, float] = {}
    for source in sources:
        for key in PEAK_MEMORY_KEYS:
            value = source.get(key)
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                continue
            # A peak that is not a finite float (a hand-edited -Infinity, an integer beyond
            # float range) is no measurement: left out like an absent field.
            try:
                number = float(value)
            except OverflowError:
                continue
            if math.isfinite(number):
                peaks[key] = max(peaks.get(key, number), number)
    return peaks
