"""`simbench report RUN_DIR`: gather one run's summary, baselines, sample interactions and
token signals from its folder, and write report.md and a self-contained report.html.

Baselines (frozen b, in-context-oracle c) come from sibling runs in the same parent folder
with the same persona, seed, model, episode length and probe set; the report names them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

from simbench.errors import InputError
from simbench.logs.run_folder import read_run
from simbench.metrics import load_run_logs, summarise_run
from simbench.metrics.run_summary import RunSummary
from simbench.metrics.user_quality import UNFIT_SHARE
from simbench.persona.scenario import SCENARIO_WORDS
from simbench.reporting.calibration import judged
from simbench.reporting.format import Section, fmt, fmt_interval
from simbench.reporting.glossary import flag_words
from simbench.reporting.pairs import run_pairs
from simbench.reporting.peers import FROZEN, ORACLE, comparable_key
from simbench.reporting.rubric import score_after_run, scored_during_run
from simbench.reporting.run_notes import cost_rows, phase_probes, probe_times, row_flags, steps_words

SAMPLE_INTERACTIONS = 6
SAMPLE_UPDATES = 3
SIGNALS_PER_UPDATE = 2


@dataclass(frozen=True)
class Baselines:
    """The sibling runs used for b and c (None: not found), and why in words."""

    frozen: Path | None
    oracle: Path | None

    def describe(self, run_dir: Path | None = None) -> list[str]:
        lines = []
        for role, path, fallback in (
            ("frozen arm (b)", self.frozen, "none found: b = the run's own adherence at t=0"),
            ("in-context oracle (c)", self.oracle, "none found: c = 1"),
        ):
            if path is None:
                lines.append(f"{role}: {fallback}")
            elif run_dir is not None and path.resolve() == run_dir.resolve():
                lines.append(f"{role}: this run")
            else:  # a sibling folder, named relative to the run so a moved report stays right
                lines.append(f"{role}: ../{path.name}")
        return lines


@dataclass
class RunReport:
    """What a run report shows; rendered by report.markdown and report.html."""

    run_dir: Path
    manifest: dict[str, Any]
    summary: RunSummary
    baselines: Baselines
    interactions: list[Any] = field(default_factory=list)
    signals: list[dict[str, Any]] = field(default_factory=list)
    probe_examples: list[Any] = field(default_factory=list)
    # Counts from the logs (a running run's manifest has no final position yet).
    live: dict[str, int] = field(default_factory=lambda: {"interactions": 0, "probe_times": 0, "updates": 0})
    # role -> {"run", "status", "interactions", "total"} of each baseline found.
    baseline_states: dict[str, dict[str, Any]] = field(default_factory=dict)
    pairs: dict[str, Any] = field(default_factory=dict)  # reporting/pairs.py: run_pairs
    calibration: dict[str, Any] | None = None  # reporting/calibration.py, when a judge was given
    rubric: dict[str, Any] | None = None  # reporting/rubric.py: who scored the judge-scored preferences


def live_counts(logs: Any) -> dict[str, int]:
    """Interactions, probe times and updates logged so far."""
    return {"interactions": len({r.t for r in logs.interactions}),
            "probe_times": len({p.t for p in logs.probes}), "updates": len(logs.updates)}


def read_manifest(run_dir: Path) -> dict[str, Any] | None:
    """The manifest of `run_dir` (as JSON data), or None when it has none or it is unreadable."""
    try:
        return read_run(run_dir).manifest.to_json()
    except InputError:
        return None


def pick_baselines(manifest: dict[str, Any], candidates: Sequence[tuple[Path, dict[str, Any]]]) -> Baselines:
    """The frozen and oracle runs among `candidates` comparable to `manifest`.

    A complete run is preferred to an unfinished one, then the first by folder name. A run
    may be its own baseline (the frozen arm is normalised by itself), which keeps every arm
    of a persona on the same scale.
    """
    key = comparable_key(manifest)
    chosen: dict[str, Path | None] = {FROZEN: None, ORACLE: None}
    for learner in chosen:
        matches = [
            (other.get("status") != "complete", str(path), path)
            for path, other in candidates
            if other.get("learner") == learner and comparable_key(other) == key
        ]
        if matches:
            chosen[learner] = min(matches)[2]
    return Baselines(chosen[FROZEN], chosen[ORACLE])


def sibling_runs(run_dir: Path) -> list[tuple[Path, dict[str, Any]]]:
    """(folder, manifest) of every run folder next to `run_dir` (itself included)."""
    parent = run_dir.resolve().parent
    out = []
    for path in sorted(parent.iterdir()):
        if path.is_dir():
            manifest = read_manifest(path)
            if manifest is not None:
                out.append((path, manifest))
    return out


def read_general(run_dir: Path) -> list[dict[str, Any]] | None:
    """general.jsonl records (validated), or None when the run asked no general questions."""
    return [record.model_dump() for record in read_run(run_dir).general] or None


def read_signals(run_dir: Path) -> list[dict[str, Any]]:
    """signals.jsonl records (per-token advantages of SDPO updates); [] when absent.

    null is how the logs write a non-finite advantage (an update skipped for NaN): it reads
    as NaN here, which the colouring shows as missing."""
    records = []
    for signal in read_run(run_dir).signals:
        record = signal.model_dump()
        record["advantages"] = [float("nan") if a is None else a for a in record["advantages"]]
        records.append(record)
    return records


def spread(items: Sequence[Any], k: int) -> list[Any]:
    """Up to k items evenly spread over `items` (first and last included)."""
    if len(items) <= k:
        return list(items)
    if k == 1:
        return [items[0]]
    return [items[round(i * (len(items) - 1) / (k - 1))] for i in range(k)]


def sample_interactions(interactions: Sequence[Any], k: int = SAMPLE_INTERACTIONS) -> list[Any]:
    """Every turn of up to k interactions spread over the episode."""
    times = spread(sorted({record.t for record in interactions}), k)
    chosen = set(times)
    return sorted((r for r in interactions if r.t in chosen), key=lambda r: (r.t, r.turn))


def sample_signals(signals: Sequence[dict[str, Any]], updates: int = SAMPLE_UPDATES,
                   per_update: int = SIGNALS_PER_UPDATE) -> list[dict[str, Any]]:
    """Signal records of up to `updates` updates spread over the run, `per_update` each."""
    numbers = spread(sorted({int(s.get("update", 0)) for s in signals}), updates)
    out = []
    for number in numbers:
        out.extend([s for s in signals if int(s.get("update", 0)) == number][:per_update])
    return out


def probe_examples(probes: Sequence[Any], prompts: int = 2) -> list[Any]:
    """The first `prompts` probe prompts' answers at the first and the last probe time."""
    if not probes:
        return []
    times = sorted({p.t for p in probes})
    ids = sorted({p.probe_id for p in probes})[:prompts]
    latest = {(p.t, p.probe_id): p for p in probes}  # a resumed run's re-probe wins
    picked = [latest.get((t, pid)) for pid in ids for t in dict.fromkeys((times[0], times[-1]))]
    return [p for p in picked if p is not None]


def build_run_report(run_dir: str | Path, bootstrap: int = 1000, judge: Any = None) -> RunReport:
    """Everything a run report shows, from the run folder (and its baseline siblings) alone;
    with a `judge`, also its calibration against the checkers (reporting/calibration.py)."""
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise InputError("RUN_DIR", f"{run_dir} is not a folder", "pass a folder written by `simbench run`")
    logs = load_run_logs(run_dir)
    siblings = sibling_runs(run_dir)
    baselines = pick_baselines(logs.manifest, siblings)
    frozen = load_run_logs(baselines.frozen) if baselines.frozen else None
    oracle = load_run_logs(baselines.oracle) if baselines.oracle else None
    scoring = scored_during_run(logs)
    if judge is not None:  # rubric wishes the run left unscored, scored now (in memory only)
        logs, after = score_after_run(logs, judge)
        scoring = after or scoring
        frozen, oracle = (score_after_run(x, judge)[0] if x is not None else None for x in (frozen, oracle))
    summary = summarise_run(logs, frozen, oracle, general=read_general(run_dir), bootstrap=bootstrap)
    states = {
        role: {"run": other.run_dir.name, "status": other.manifest.get("status", "unknown"),
               "interactions": live_counts(other)["interactions"], "total": other.manifest.get("interactions", "unknown")}
        for role, other in (("frozen", frozen), ("in-context oracle", oracle))
        if other is not None and other.run_dir is not None and Path(other.run_dir).resolve() != run_dir.resolve()
    }
    return RunReport(
        run_dir=run_dir,
        manifest=logs.manifest,
        summary=summary,
        baselines=baselines,
        interactions=sample_interactions(logs.interactions),
        signals=sample_signals(read_signals(run_dir)),
        probe_examples=probe_examples(logs.probes),
        live=live_counts(logs),
        baseline_states=states,
        pairs=run_pairs(logs, siblings, frozen, summary.unlearning),
        calibration=judged(logs, frozen, judge) if judge is not None else None,
        rubric=scoring,
    )


def run_title(manifest: dict[str, Any]) -> str:
    persona = manifest.get("persona") or {}
    name = persona.get("name") or persona.get("id") or "unnamed persona"
    return (f"simbench run: {name} · {manifest.get('learner', 'unknown learner')} · "
            f"seed {manifest.get('seed', 'unknown')}")


def run_facts(report: RunReport) -> list[tuple[str, Any]]:
    """Key facts of the run shown at the top of both renderings."""
    m, s = report.manifest, report.summary
    persona = m.get("persona") or {}
    versions = m.get("versions") or {}
    sessions = [x for x in m.get("sessions") or [] if isinstance(x, dict)]
    peaks = [float(x["peak_rss_mb"]) for x in sessions if isinstance(x.get("peak_rss_mb"), (int, float))]
    return [
        ("run folder", str(report.run_dir)),
        ("persona", f"{persona.get('id', 'unknown')} ({persona.get('name', 'unnamed')}), content hash "
                    f"{str(persona.get('content_hash', 'unknown'))[:12]}"),
        ("scenario", f"{s.scenario} ({SCENARIO_WORDS.get(s.scenario, 'see the schedule')})"),
        ("learner", m.get("learner", "unknown")),
        ("model", m.get("model", "unknown")),
        ("user simulator", simulator_of(m)),
        ("user noise", noise_of(persona)),
        ("seed", m.get("seed", "unknown")),
        ("interactions", f"{report.live['interactions']} of {m.get('interactions', 'unknown')} logged "
                         f"(status: {m.get('status', 'unknown')})"),
        ("wall time", f"{sum(float(x.get('seconds', 0)) for x in sessions):.1f} s over {len(sessions)} session(s)"
         if sessions else "not recorded yet: it is written when a session ends"),
        ("peak RSS", f"{max(peaks):.0f} MiB (process maximum)" if peaks else "not recorded"),
        ("git commit", m.get("git_commit", "unknown")),
        ("versions", ", ".join(f"{k} {v}" for k, v in sorted(versions.items())) or "unknown"),
    ]


def run_warnings(report: RunReport) -> list[str]:
    """What a reader must know before trusting the numbers, in words."""
    manifest, summary, live = report.manifest, report.summary, report.live
    out = [f"at the start of the run: {w}" for w in manifest.get("warnings") or []]
    total = manifest.get("interactions", "?")
    status = manifest.get("status", "unknown")
    if status != "complete":
        out.append(
            f"this run is {status}: {live['interactions']} of {total} interactions, "
            f"{live['probe_times']} probe time(s) and {live['updates']} update(s) logged so far; "
            "every number below covers only what is logged"
        )
    for role, state in report.baseline_states.items():
        if state["status"] != "complete":
            out.append(
                f"the {role} baseline ../{state['run']} is {state['status']} ({state['interactions']} of "
                f"{state['total']} interactions logged): its numbers may change when it finishes"
            )
    times = probe_times(summary)
    for k, phase in enumerate(summary.phases):
        if not phase_probes(phase, times) and (status == "complete" or live["interactions"] >= phase.end):
            out.append(f"phase {k + 1} (interactions {phase.start}–{phase.end - 1}) has no probe "
                       "after it starts: nothing measures what it taught")
    quality = summary.user_quality
    if quality.unfit:
        out.append(
            f"{quality.share or 0:.0%} of the user simulator's follow-ups ({quality.flagged} of "
            f"{quality.gated}) failed its quality gate (more than {UNFIT_SHARE:.0%}): this user "
            "simulator is not fit for this persona, so the feedback the learner saw is suspect"
        )
    return out


def general_count(manifest: dict[str, Any]) -> int | None:
    """How many general-capability questions each probe asked (None when not recorded)."""
    n = ((manifest.get("prompts") or {}).get("general") or {}).get("n")
    return n if isinstance(n, int) and n > 0 else None


def noise_of(persona: dict[str, Any]) -> str:
    """The persona's share of follow-ups that are unrelated to the answer on purpose, in words."""
    rate = persona.get("irrelevant_rate")
    if not isinstance(rate, (int, float)):
        return "not recorded"
    return f"{rate:.0%} of follow-ups unrelated to the answer by design" if rate > 0 else "none"


def simulator_of(manifest: dict[str, Any]) -> str:
    """The user simulator in words: its name plus the model it calls, if any."""
    user = manifest.get("user") or "unknown"
    options = (manifest.get("config") or {}).get("user_options") or {}
    model = options.get("model")
    return f"{user} ({model})" if model else str(user)


def metric_sections(summary: RunSummary, general_questions: int | None = None) -> list[Section]:
    """The metrics of a run summary as tables: adaptation, unlearning, forgetting, drift, cost.

    `general_questions`: how many general questions each probe asked (the drift note)."""
    sections = []
    rows = [
        [a.preference, str(a.phase + 1), fmt(a.b), fmt(a.c), steps_words(a),
         fmt_interval(a.aulc, *a.aulc_ci), fmt_interval(a.final_s, *a.final_s_ci),
         flag_words(row_flags(a))]
        for a in summary.adaptation
    ]
    notes = sorted({a.baseline_note for a in summary.adaptation})
    sections.append(Section(
        f"Adaptation (threshold g ≥ {summary.threshold} held for {summary.sustain} probes)",
        ["preference", "phase", "b", "c", "steps to threshold N (lower is better)",
         "AULC [95% CI] (higher is better)", "final adherence [95% CI]", "notes"], rows, notes))
    if summary.unlearning:
        rows = [
            [u.preference, u.kind, u.replaced_by or "–", str(u.phase + 1),
             fmt(u.s_at_change), steps_words(u, "steps_to_unlearn"),
             fmt(u.perseveration), fmt(u.final_u), flag_words(row_flags(u))]
            for u in summary.unlearning
        ]
        sections.append(Section(
            "Unlearning (old preference fading after it is no longer wanted)",
            ["preference", "kind", "replaced by", "phase", "s at change", "steps to unlearn",
             "perseveration (lower is better)", "final U (higher is better)", "notes"], rows))
    forgetting = summary.forgetting
    if forgetting:
        prefs = forgetting.preferences
        rows = [[("b (baseline)" if i == 0 else f"end of phase {i}")] + [fmt(v) for v in row]
                for i, row in enumerate(forgetting.R)]
        sections.append(Section(
            "Forgetting (R: adherence to each preference at the end of each phase; first row b)",
            ["row"] + prefs, rows,
            [f"ACC {fmt(forgetting.acc)} (higher is better) · BWT {fmt(forgetting.bwt)} (higher is "
             f"better) · forgetting F {fmt(forgetting.forgetting)} (lower is better) · "
             f"min-ACC {fmt(forgetting.min_acc)} (higher is better)"]))
    sections.append(drift_section(summary, general_questions))
    cost = summary.cost
    rows = cost_rows(cost)
    notes = [f"{cost.interactions} interactions, {cost.updates} updates "
             f"({cost.skipped_updates} skipped), {fmt(cost.tokens_per_interaction, 1)} tokens "
             f"per interaction, {fmt(cost.probe_tokens_per_response, 1)} per probe answer"]
    if cost.peak_memory_mb:
        notes.append("peak memory: " + ", ".join(f"{k} {v:.0f} MiB" for k, v in cost.peak_memory_mb.items()))
    sections.append(Section("Cost (seconds per interaction by stage)", ["stage", "seconds"], rows, notes))
    return sections


def drift_section(summary: RunSummary, general_questions: int | None = None) -> Section:
    """Collateral drift per probe time: KL and |NLL change| to the frozen model on fixed texts
    (drift.jsonl), general-question accuracy and accuracy on the questions right at t=0."""
    collateral, general = summary.collateral_drift, summary.general_drift
    general_times = general.t if general else []
    times = sorted(set(collateral.t) | set(general_times))

    def at(times: list[int], values: list[float | None], t: int, digits: int = 2) -> str:
        return fmt(values[times.index(t)], digits) if t in times else "–"

    rows = [[str(t), at(collateral.t, collateral.kl, t, 4), at(collateral.t, collateral.abs_nll_change, t, 4),
             at(general_times, general.accuracy if general else [], t),
             at(general_times, general.retained if general else [], t)] for t in times]
    notes = []
    if not collateral.measured:
        notes.append("KL and NLL: not measured (this run folder has no drift.jsonl; runs made "
                     "before it existed)")
    else:
        notes.append(f"KL(frozen || policy) and |NLL(policy) - NLL(frozen)| in nats per token, mean "
                     f"over {collateral.items} fixed texts and general questions' answers")
    if general_times and general_questions:
        notes.append(f"accuracy over {general_questions} question(s) per probe, so one answer moves it by "
                     f"{1 / general_questions:.2f}: read small changes as noise")
    if general and general_times and not general.right_at_start:
        notes.append("accuracy on questions right at t=0: not applicable (none was right at t=0)")
    return Section("Collateral drift (distance from the frozen model on what it already does)",
                   ["t", "KL to frozen (lower is better)", "|NLL change| (lower is better)", "general accuracy",
                    "accuracy on questions right at t=0 (higher is better)"],
                   rows, notes)


def adherence_section(summary: RunSummary) -> Section:
    """Adherence s_j(t) as a table: one row per probe time, one column per preference."""
    curves = summary.adherence
    prefs = sorted(curves)
    times = sorted({t for curve in curves.values() for t in curve.t})
    lookup = {(p, t): s for p in prefs for t, s in zip(curves[p].t, curves[p].s)}
    starts = {phase.start: phase.index for phase in summary.phases}
    rows = [[f"{t}" + (f" (phase {starts[t] + 1} starts)" if t in starts else "")]
            + [fmt(lookup.get((p, t))) for p in prefs] for t in times]
    return Section("Adherence by probe time", ["t"] + prefs, rows)
