"""The parts of a run report that say what the numbers rest on: the schedule, the user
simulator's follow-up quality and the glossary. Format-neutral `Section`s; report.markdown and
report.html render them. Built from the summary alone, so this module sits below run_report
(which holds the warnings that need the whole `RunReport`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Mapping, Sequence

from simbench.persona.scenario import transition
from simbench.reporting.format import Section, fmt
from simbench.reporting.glossary import GLOSSARY_HEADERS, PHASES, flag_rows, glossary_rows
from simbench.users.gate import REASONS

if TYPE_CHECKING:
    from simbench.metrics.run_summary import AdaptationRow, Cost, Phase, RunSummary, UnlearningRow


def probe_times(summary: RunSummary) -> list[int]:
    """Every probe time of the run (from its adherence curves)."""
    return sorted({int(t) for curve in summary.adherence.values() for t in curve.t})


def phase_probes(phase: Phase, times: Sequence[int]) -> list[int]:
    """Probe times that measure `phase`: after it starts, up to its end (start < t <= end)."""
    return [t for t in times if phase.start < t <= phase.end]


def schedule_section(summary: RunSummary, opposites: Mapping[str, str | None]) -> Section:
    """One row per phase: number (from 1), interactions, preferences, change, probes in it."""
    times = probe_times(summary)
    phases = summary.phases
    sets = [frozenset(p.preferences) for p in phases]
    rows = []
    for k, phase in enumerate(phases):
        if k == 0:
            change = "start"
        else:
            added = [f"+{p}" for p in phase.preferences if p not in sets[k - 1]]
            dropped = [f"−{p}" for p in phases[k - 1].preferences if p not in sets[k]]
            kind = transition(sets[: k - 1], sets[k - 1], sets[k], opposites)
            change = f"{kind}: {' '.join(added + dropped)}"
        probes = phase_probes(phase, times)
        rows.append([str(k + 1), f"{phase.start}–{phase.end - 1}",
                     ", ".join(phase.preferences) or "none", change,
                     ", ".join(map(str, probes)) or "none (not measured)"])
    notes = [PHASES, f"scenario type: {summary.scenario}"]
    return Section("Schedule", ["phase", "interactions", "active preferences", "change",
                                "probes measuring it (t)"], rows, notes, numeric_from=None)


def user_quality_section(summary: RunSummary) -> Section:
    """The share of follow-ups the LLM user's quality gate flagged, with the reasons."""
    quality = summary.user_quality
    if not quality.gated:
        return Section("User simulator follow-ups", ["follow-ups", "quality gate"],
                       [[str(quality.follow_ups),
                         "not gated: the rules user writes checked templates that keep the wishes they voice"]],
                       numeric_from=None)
    reasons = ", ".join(f"{REASONS.get(k, k)} {v}" for k, v in quality.reasons.items()) or "–"
    return Section(
        "User simulator follow-ups",
        ["follow-ups", "through the gate", "flagged", "share flagged", "why"],
        [[str(quality.follow_ups), str(quality.gated), str(quality.flagged),
          f"{quality.share or 0:.0%}", reasons]],
        ["flagged: still failed the gate (echo, role flip, label, empty, no mention of the broken "
         "wish, or breaking a voiced wish) after every retry, and was kept so the run could go on"],
    )


def glossary_sections() -> list[Section]:
    """The glossary of symbols and the flags in words."""

    return [
        Section("Symbols", GLOSSARY_HEADERS, glossary_rows(), [PHASES], numeric_from=None),
        Section("Flags", ["flag", "meaning"], flag_rows(), numeric_from=None),
    ]


def steps_words(row: AdaptationRow | UnlearningRow, key: str = "steps_to_threshold") -> str:
    """A steps cell that says what state the number is in, never a bare censored number."""
    flags = row.flags
    steps = getattr(row, key)
    if "not_scored" in flags:  # the note says why: no judge, or unparseable verdicts
        return row.baseline_note.partition("' ")[2] or "not scored"
    if "unreachable_at_token_cap" in flags:
        return "unreachable (token cap)"
    if "no_probes" in flags:
        return "not measured (no probe)"
    if "too_few_probes_to_sustain" in flags:
        return f"not measurable ({row.n_probes} probe(s) in phase)"
    if row.censored:
        return f"not reached in {steps} (censored)"
    if "no_headroom" in flags:
        return "not applicable (no headroom)"
    if "nothing_to_unlearn" in flags:
        return "not applicable (nothing to unlearn)"
    return "–" if steps is None else str(steps)


def row_flags(row: AdaptationRow | UnlearningRow) -> list[str]:
    """The row's flags, plus "saturated" when there is no headroom because b is already 1."""
    flags = [*row.flags]
    b = row.b
    if "no_headroom" in flags and b is not None and b >= 1.0 - 1e-9:
        flags.append("saturated")
    return flags


STAGE_NAMES = {"generate": "generation", "user": "user simulator", "update": "update", "probe": "probing"}


def cost_rows(cost: Cost) -> list[list[str]]:
    """Stages in a fixed order, their total, and (when recorded) the rest of the wall time."""
    stages = cost.seconds_per_interaction
    rows = [[STAGE_NAMES.get(stage, stage), fmt(stages[stage], 3)]
            for stage in [*STAGE_NAMES, *sorted(set(stages) - set(STAGE_NAMES) - {"total"})] if stage in stages]
    if "total" in stages:
        rows.append(["total of these stages", fmt(stages["total"], 3)])
    wall = cost.wall_seconds_per_interaction
    if wall is not None and stages.get("total") is not None:
        rows.append(["other (model loading, checkpoints, logs)", fmt(wall - stages["total"], 3)])
        rows.append(["wall time", fmt(wall, 3)])
    return rows


def gate_note(record: Any) -> str:
    """" · follow-up flagged: ..." for a follow-up the LLM user's quality gate flagged."""
    flags = (record.user_meta.get("gate") or {}).get("flags") or []
    return f" · follow-up flagged: {', '.join(REASONS.get(f, f) for f in flags)}" if flags else ""


def joined(values: dict[str, list[str]]) -> str:
    """{"torch": ["2.13"], ...} as "torch 2.13; ..." (several values comma-separated)."""
    return "; ".join(f"{key} {', '.join(items)}" for key, items in values.items())
