"""What a leaderboard says beside its table: provenance (simulators, judge, models, hashes,
versions, commits) and the notes a reader needs before trusting a cell (missing baselines,
flags, unfit user simulators, drift, unreachable preferences).

`Entry` objects are report.leaderboard's; typed loosely here so this module sits below it.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any, Sequence

from simbench.metrics.summary import NOT_SCORED, UNREACHABLE
from simbench.metrics.user_quality import UNFIT_SHARE
from simbench.reporting.glossary import FLAG_WORDS
from simbench.reporting.pairs import not_applicable_notes, specificity_notes
from simbench.reporting.rubric import AFTER
from simbench.reporting.run_report import FROZEN, ORACLE, simulator_of

Entry = Any


def _judge_name(identity: Any) -> str:
    """"model at base_url" of a manifest's judge identity (older manifests: a plain string)."""
    if isinstance(identity, dict):
        return f"{identity.get('model')} at {identity.get('base_url')}"
    return str(identity) if identity else ""


def provenance(manifests: Sequence[dict[str, Any]], scorings: Sequence[dict[str, Any]] = ()) -> dict[str, Any]:
    """What produced the results: simulators, judge, models, persona hashes, versions, commits.

    `scorings` (reporting/rubric.py) say who scored judge-scored preferences: a judge that scored
    them after the runs is named as such, and the preferences each judge scored are listed."""
    versions: dict[str, set[str]] = defaultdict(set)
    personas: dict[str, set[str]] = defaultdict(set)
    for m in manifests:
        for package, version in (m.get("versions") or {}).items():
            versions[package].add(str(version))
        persona = m.get("persona") or {}
        personas[str(persona.get("id"))].add(str(persona.get("content_hash")))
    judges = {_judge_name(m.get("judge")) or str((m.get("config") or {}).get("judge") or "none") for m in manifests}
    scored: dict[str, set[str]] = defaultdict(set)
    for scoring in scorings:
        name = _judge_name(scoring["judge"]) + (" (scored after the run)" if scoring["when"] == AFTER else "")
        scored[name].update(scoring["preferences"])
    judges |= {name for name in scored if name.endswith("(scored after the run)")}
    extra = {"judge_scored": {name: sorted(prefs) for name, prefs in sorted(scored.items())}} if scored else {}
    return {
        "simulator": sorted({simulator_of(m) for m in manifests}),
        "judge": sorted(judges),
        "model": sorted({str(m.get("model")) for m in manifests}),
        "persona_hashes": {pid: sorted(h) for pid, h in sorted(personas.items())},
        "versions": {pkg: sorted(v) for pkg, v in sorted(versions.items())},
        "git_commit": sorted({str(m.get("git_commit", "unknown")) for m in manifests}),
        "seeds": sorted({int(m["seed"]) for m in manifests}),
        **extra,  # only with judge-scored preferences: other leaderboards read as before
    }


def notes(entries: Sequence[Entry], skipped: Sequence[dict[str, str]], bootstrap: int) -> list[str]:
    """Caveats a reader must see next to the numbers."""
    out = []
    learners = {e.row[0] for e in entries}
    if FROZEN not in learners:
        out.append("no frozen runs: b is each run's own adherence at t=0")
    if ORACLE not in learners:
        out.append("no in-context-oracle runs: c = 1 (perfect adherence) for every preference")
    lacking = [e.path.name for e in entries if e.baselines.frozen is None or e.baselines.oracle is None]
    if lacking and FROZEN in learners and ORACLE in learners:
        out.append(f"{len(lacking)} run(s) lack a comparable frozen or oracle run: {', '.join(lacking[:5])}")
    if len({int(e.manifest['seed']) for e in entries}) < 2:
        out.append(f"one seed: intervals bootstrap probe prompts only ({bootstrap} resamples); "
                   "runs of one seed share a trajectory, so they say nothing about another seed")
    noisy = sorted({(str(persona.get("id")), float(persona["irrelevant_rate"])) for persona in
                    ((e.manifest.get("persona") or {}) for e in entries)
                    if isinstance(persona.get("irrelevant_rate"), (int, float)) and persona["irrelevant_rate"] > 0})
    if noisy:
        out.append("noisy users: " + ", ".join(f"{pid} ({rate:.0%} of follow-ups unrelated to the answer by design)"
                                               for pid, rate in noisy))
    out += specificity_notes(entries)
    if not any(e.metrics["drift"] is not None for e in entries):
        out.append("drift (KL to the frozen model) not measured: these runs were made before "
                   "drift.jsonl was recorded")
    out += not_applicable_notes(entries)
    above = [e.path.name for e in entries if e.row[0] != ORACLE and any(
        a.final_s is not None and a.c is not None and a.final_s > a.c + 1e-9
        for a in e.summary.adaptation)]
    if above and ORACLE in learners:
        out.append(f"in {len(above)} run(s) a learner ends above the in-context oracle's adherence c; "
                   "normalised adaptation is clipped at 1 there, so compare the raw 'final' column too")
    out += unreachable_notes(entries)
    out += not_scored_notes(entries)
    out += flag_notes(entries)
    out += user_quality_notes(entries)
    out += drift_notes(entries)
    out += [f"left out {s['run']}: {s['reason']}" for s in skipped]
    return out


def flag_notes(entries: Sequence[Entry]) -> list[str]:
    """How many metric rows carry each flag (in words): they shape what the means average."""
    counts: dict[str, set[str]] = defaultdict(set)
    rows: dict[str, int] = defaultdict(int)
    for entry in entries:
        for row in [*entry.summary.adaptation, *entry.summary.unlearning]:
            for flag in row.flags:
                if flag not in (UNREACHABLE, NOT_SCORED):  # their own notes say more about them
                    counts[flag].add(entry.path.name)
                    rows[flag] += 1
    return [f"{rows[flag]} metric row(s) in {len(names)} run(s) are flagged {flag}: {FLAG_WORDS.get(flag, flag)}"
            for flag, names in sorted(counts.items())]


def user_quality_notes(entries: Sequence[Entry]) -> list[str]:
    """Per persona, the share of LLM-user follow-ups that failed the quality gate."""
    by_persona: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for entry in entries:
        quality = entry.summary.user_quality
        if quality.gated:
            counts = by_persona[str(entry.manifest["persona"].get("id"))]
            counts[0] += quality.flagged
            counts[1] += quality.gated
    out = []
    for persona, (flagged, gated) in sorted(by_persona.items()):
        share = flagged / gated
        verdict = (f": above {UNFIT_SHARE:.0%}, the user simulator is not fit for this persona"
                   if share > UNFIT_SHARE else "")
        out.append(f"persona {persona}: {flagged} of {gated} LLM-user follow-ups ({share:.0%}) failed the "
                   f"quality gate{verdict}")
    return out


def drift_notes(entries: Sequence[Entry]) -> list[str]:
    """A warning when drift rests on so few general questions that its interval says little."""
    counts = sorted({len({g["id"] for g in e.general or []}) for e in entries if e.general})
    if counts and counts[0] < 10:
        return [f"drift rests on {counts[0]} general question(s) per probe time in some runs: one answer moves "
                f"accuracy by {1 / counts[0]:.2f}, and an interval such as [1.00, 1.00] only says the "
                "resamples could not vary"]
    return []


def not_scored_notes(entries: Sequence[Entry]) -> list[str]:
    """One note per judge-scored preference that some runs left unscored, and how to score it."""
    runs: dict[tuple[str, str], list[str]] = defaultdict(list)
    for entry in entries:
        for pref, why in entry.summary.not_scored.items():
            runs[(pref, why)].append(entry.path.name)
    return [
        f"'{pref}' is judge-scored and {why} in {len(names)} run(s) ({', '.join(names[:5])}): shown as "
        "not scored, left out of the adaptation and final means; `simbench leaderboard RESULTS_DIR --judge "
        "openai --judge-option base_url=URL --judge-option model=MODEL` scores it from the logged answers"
        for (pref, why), names in sorted(runs.items())
    ]


def unreachable_notes(entries: Sequence[Entry]) -> list[str]:
    """One note per preference that the runs' token cap made impossible to pass."""
    runs: dict[str, list[str]] = defaultdict(list)
    for entry in entries:
        for row in entry.summary.adaptation:
            if UNREACHABLE in row.flags:
                runs[row.preference].append(entry.path.name)
    return [
        f"'{pref}' cannot be passed within the runs' max_new_tokens (flag {UNREACHABLE}): "
        f"its adherence is 0 by construction in {len(names)} run(s), so it is left out of the "
        "adaptation and final columns"
        for pref, names in sorted(runs.items())
    ]
