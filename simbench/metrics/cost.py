"""What a run cost: seconds per interaction by stage, generated tokens and peak memory, read
from interaction/update records and the manifest so arms can be compared at equal budget."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Mapping, Sequence

from simbench.logs.schema import InteractionRecord, ProbeRecord, UpdateLogRecord

# Peak-memory fields the runner may write (MiB), at the manifest's top level, under its
# "resources" object, or in an update's stats; the largest value seen is reported.
PEAK_MEMORY_KEYS = ("peak_rss_mb", "peak_gpu_mb")


@dataclass(frozen=True)
class RunCost:
    """Per-interaction costs of one run. `seconds_per_interaction` has one entry per stage
    plus "total"; stages other than "update" are the keys of InteractionRecord.seconds."""

    interactions: int
    updates: int
    skipped_updates: int
    seconds_per_interaction: dict[str, float]
    tokens_per_interaction: float
    probe_tokens_per_response: float
    peak_memory_mb: dict[str, float]

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
    records, so the same time is never counted twice.
    """
    n = len({record.t for record in interactions})
    totals: dict[str, float] = {}
    for record in interactions:
        for stage, seconds in record.seconds.items():
            totals[stage] = totals.get(stage, 0.0) + float(seconds)
    if updates:
        totals["update"] = sum(float(update.seconds) for update in updates)
    per_interaction = {stage: total / n for stage, total in sorted(totals.items())} if n else {}
    if per_interaction:
        per_interaction["total"] = sum(per_interaction.values())
    return RunCost(
        interactions=n,
        updates=len(updates),
        skipped_updates=sum(1 for update in updates if update.skipped),
        seconds_per_interaction=per_interaction,
        tokens_per_interaction=sum(r.tokens for r in interactions) / n if n else float("nan"),
        probe_tokens_per_response=sum(p.tokens for p in probes) / len(probes) if probes else float("nan"),
        peak_memory_mb=peak_memory(manifest, updates),
    )


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
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                peaks[key] = max(peaks.get(key, float(value)), float(value))
    return peaks
