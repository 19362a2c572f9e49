"""Judge-scored (rubric) preferences in reports: who scored them, and scoring them after a run.

A run without --judge logs its rubric wishes as not scored (simbench/scoring.py). Its report
shows them as "not scored (no judge)"; `report --judge` and `leaderboard --judge` ask the
judge about the logged probe answers instead (through the judge's reply cache, so asking
again costs nothing) and use the verdicts in the report outputs only: the run folder is read,
never written, so the run's own logs keep saying what happened during the run.
"""

from __future__ import annotations

import dataclasses
import hashlib
from pathlib import Path
from typing import Any

from simbench.errors import InputError
from simbench.metrics.summary import NOT_SCORED_NO_JUDGE
from simbench.persona.library import BUILTIN
from simbench.persona.loader import load_persona
from simbench.persona.preference import Preference
from simbench.persona.spec import to_preference
from simbench.scoring import Scorer

AFTER = "after the run"
DURING = "during the run"


def rubric_preferences(manifest: dict[str, Any]) -> dict[str, Preference]:
    """{id: preference} of the run's judge-scored preferences whose rubric is known: the
    built-in library's, else the persona file's own (when it is still the file the run read)."""
    persona = manifest.get("persona") or {}
    ever = [pid for pid in persona.get("ever", []) if isinstance(pid, str)]
    found = {pid: BUILTIN[pid] for pid in ever if pid in BUILTIN and not BUILTIN[pid].verifiable}
    missing = [pid for pid in ever if pid not in BUILTIN]
    if missing:
        found.update({p.id: p for p in _local_rubrics(persona) if p.id in missing and not p.verifiable})
    return found


def _local_rubrics(persona: dict[str, Any]) -> list[Preference]:
    """The persona file's own preferences, only if the file is unchanged since the run."""
    path = Path(str(persona.get("file") or ""))
    try:
        if not path.is_file() or hashlib.sha256(path.read_bytes()).hexdigest() != persona.get("file_sha256"):
            return []
        return [to_preference(local) for local in load_persona(path, check_prompts=False).preferences]
    except (InputError, OSError):
        return []


def score_after_run(logs: Any, judge: Any) -> tuple[Any, dict[str, Any] | None]:
    """`logs` with its not-scored rubric checks scored by `judge` (in memory), and what was done.

    Only checks the run left unscored for want of a judge (scorer "none") are asked; a run
    judged while it ran keeps its own verdicts. Identical (preference, prompt, answer) items
    are asked once. Returns (logs, None) when there is nothing to score."""
    rubrics = rubric_preferences(logs.manifest)
    pending = [(i, pid) for i, record in enumerate(logs.probes) for pid, outcome in record.checks.items()
               if outcome.passed is None and outcome.scorer == "none" and pid in rubrics]
    if not pending:
        return logs, None
    items = list(dict.fromkeys((pid, logs.probes[i].prompt, logs.probes[i].response) for i, pid in pending))
    outcomes = Scorer(judge).outcomes([(rubrics[pid], prompt, answer) for pid, prompt, answer in items])
    verdict = dict(zip(items, outcomes))
    probes = list(logs.probes)
    for i, pid in pending:
        record = probes[i]
        checks = {**record.checks, pid: verdict[(pid, record.prompt, record.response)]}
        probes[i] = record.model_copy(update={"checks": checks})
    scored = sorted({pid for _, pid in pending})
    info = {"when": AFTER, "judge": judge.identity(), "preferences": scored, "verdicts": len(items),
            "unparseable": sum(o.passed is None for o in outcomes)}
    return dataclasses.replace(logs, probes=probes), info


def scored_during_run(logs: Any) -> dict[str, Any] | None:
    """What the run's own judge scored (None when it scored nothing)."""
    judged = [(pid, o) for r in logs.probes for pid, o in r.checks.items() if o.scorer == "judge"]
    if not judged:
        return None
    return {"when": DURING, "judge": logs.manifest.get("judge") or {}, "preferences": sorted({p for p, _ in judged}),
            "verdicts": len(judged), "unparseable": sum(o.passed is None for _, o in judged)}


def judge_words(identity: Any) -> str:
    """"model at base_url" of a judge identity (older manifests: a plain string)."""
    if isinstance(identity, dict):
        return f"{identity.get('model')} at {identity.get('base_url')}"
    return str(identity) if identity else ""


def rubric_lines(scoring: dict[str, Any] | None, not_scored: dict[str, str] | None) -> list[str]:
    """The report's sentences about judge-scored preferences (empty when the run has none)."""
    lines = []
    if scoring:
        prefs = ", ".join(scoring["preferences"])
        how = ("from the probe answers logged in the run folder (the folder is unchanged)"
               if scoring["when"] == AFTER else "and logged with the run")
        lines.append(f"Judge-scored preferences {prefs}: scored {scoring['when']} by judge "
                     f"{judge_words(scoring['judge'])} {how}; {scoring['unparseable']} of "
                     f"{scoring['verdicts']} verdict(s) unparseable (not scored, not counted as fails).")
    for pref, why in sorted((not_scored or {}).items()):
        how = (" Score it from the logged answers, without rerunning: `simbench report RUN_DIR --judge "
               "openai --judge-option base_url=URL --judge-option model=MODEL`." if why == NOT_SCORED_NO_JUDGE else "")
        lines.append(f"'{pref}' is judge-scored and {why}: it has no adherence numbers and is left out of "
                     f"the means.{how}")
    return lines
