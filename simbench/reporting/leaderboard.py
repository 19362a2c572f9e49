"""`simbench leaderboard RESULTS_DIR`: one row per learner (and model), one column per metric
and scenario type, mean and 95% CI; written as markdown, HTML (with a plot) and JSON.

The simulated user (seed) is the unit of every interval. The first columns are specificity:
adherence minus the learner's unrelated-feedback twin's, and minus the frozen arm's, paired
by seed and probe prompt, with a t interval over users, n and the minimum detectable
difference (reporting/pairs.py, metrics/paired.py). Every other metric's value is the mean over
seeds of each seed's mean over its personas of the scenario type, with a t interval over
those per-user means; with one seed, a bootstrap of its probe prompts (each resample
recomputes the run's metrics from its logs, drawing the same prompts for the run and its
frozen/oracle baselines). Cost is one timing per run: mean over seeds, no interval.
"""

from __future__ import annotations

import dataclasses
import json
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from simbench.errors import InputError
from simbench.logs.io import write_atomic
from simbench.logs.run_folder import read_run
from simbench.metrics import load_run_logs, summarise_run
from simbench.metrics.curves import adherence_curves, mean_finite
from simbench.metrics.paired import DIFFERENCE, RATE, clip_interval, t_quantile
from simbench.metrics.run_summary import AdaptationRow, RunSummary, UnlearningRow
from simbench.metrics.summary import NOT_SCORED, applicable
from simbench.metrics.unlearning import unlearning_score
from simbench.reporting.copies import keep_one_copy
from simbench.reporting.html import leaderboard_html
from simbench.reporting.leaderboard_notes import notes, provenance
from simbench.reporting.leaderboard_schema import LEADERBOARD_VERSION, Leaderboard
from simbench.reporting.markdown import leaderboard_markdown
from simbench.reporting.pairs import specificity_cells
from simbench.reporting.rubric import judge_words, score_after_run, scored_during_run
from simbench.reporting.run_report import (
    FROZEN,
    ORACLE,
    Baselines,
    pick_baselines,
    read_general,
)
from simbench.reporting.win_rate import DESCRIPTION as WIN_RATE
from simbench.reporting.win_rate import win_rate_cell

SCENARIOS = ("single", "profile", "flip", "drop", "revert", "complementary")
SPECIFICITY = {
    "specificity": "adherence minus the same learner's under unrelated feedback (`<learner>+unrelated`), "
                   "paired by seed and probe prompt: learning from what the user said beyond the drift "
                   "any follow-up causes (higher is better; 0 = no evidence of it)",
    "vs_frozen": "adherence minus the frozen model's, paired by seed and probe prompt",
    "flip_vs_no_flip": "after a flip, adherence to the old preference minus the matching no-flip run's "
                       "(same learner, seed and settings, identical up to τ), paired by seed and prompt: "
                       "below 0 = less of the old preference than had the user never asked otherwise, "
                       "which alone does not say it fell (it may still be rising, only more slowly); "
                       "about 0 = no sign the new feedback's content mattered. The flip verdicts read it "
                       "with both preferences' change from τ",
}
METRICS = {
    **SPECIFICITY,
    "adaptation": "normalised AULC, mean over newly active preferences (higher is better)",
    "final": "raw adherence at the end of each newly active preference's phase, mean "
             "(higher is better; not normalised, so not capped by the oracle)",
    "unlearning": "perseveration, mean(1 - U) after a preference stops being wanted (lower is better)",
    "forgetting": "Chaudhry forgetting F on complementary schedules (lower is better)",
    "drift": "KL(frozen || policy) per token at the end on fixed general texts and answers, in nats "
             "(0 = the frozen model's distribution; lower is better; runs without drift.jsonl: not measured)",
    "retained": "accuracy at the end on the general questions the run answered right at t=0 "
                "(1 = nothing lost; not applicable when none was right)",
    "cost": "seconds per interaction: generation + user simulator + update + probing (lower is better)",
}

# Each metric's possible range, to which its t interval is clipped; drift and cost are unbounded.
BOUNDS = {"adaptation": RATE, "final": RATE, "unlearning": RATE, "retained": RATE, "forgetting": DIFFERENCE}


def headline_metrics(summary: RunSummary) -> dict[str, float | None]:
    """The leaderboard's per-run numbers of one run summary (None when not applicable or not
    measured); specificity is a property of run pairs and is computed in reporting/pairs.py."""
    persever = [u.perseveration for u in summary.unlearning if u.perseveration is not None]
    forgetting, general, collateral = summary.forgetting, summary.general_drift, summary.collateral_drift
    return {
        "adaptation": summary.headline.aulc,
        "final": summary.headline.final_s,
        "unlearning": float(np.mean(persever)) if persever else None,
        "forgetting": forgetting.forgetting if forgetting else None,
        "drift": collateral.kl[-1] if collateral.measured else None,
        "retained": general.retained[-1] if general and general.retained else None,
        "cost": summary.cost.seconds_per_interaction.get("total"),
    }


@dataclass
class Entry:
    """One complete run of the results folder, with its baselines and metrics."""

    path: Path
    manifest: dict[str, Any]
    logs: Any
    frozen: Any
    oracle: Any
    general: list[dict[str, Any]] | None
    baselines: Baselines
    summary: RunSummary
    metrics: dict[str, float | None]
    resamples: list[dict[str, float | None]] = field(default_factory=list)
    rubric: dict[str, Any] | None = None  # reporting/rubric.py: who scored its judge-scored preferences

    @property
    def row(self) -> tuple[str, str]:
        return (self.manifest["learner"], str(self.manifest.get("model", "?")))


def collect(results_dir: Path, judge: Any = None) -> tuple[list[Entry], list[dict[str, str]]]:
    """Complete runs in the sub-folders of `results_dir`, and the folders left out (why);
    with a `judge`, rubric wishes a run left unscored are scored from its logged answers."""
    if not results_dir.is_dir():
        raise InputError("RESULTS_DIR", f"{results_dir} is not a folder",
                         "pass the --out folder of `simbench sweep`")
    found, unreadable = run_folders(results_dir)
    if not found and not unreadable:
        raise InputError("RESULTS_DIR", f"no run folders (with manifest.json) in {results_dir}")
    complete = [(p, m) for p, m in found if m.get("status") == "complete"]
    skipped = unreadable + [{"run": p.name, "reason": f"status {m.get('status')!r}, not complete"}
                            for p, m in found if m.get("status") != "complete"]
    loaded: dict[Path, Any] = {}
    scoring: dict[Path, dict[str, Any] | None] = {}

    def logs_of(path: Path | None) -> Any:
        if path is not None and path not in loaded:
            logs = load_run_logs(path)
            scoring[path] = scored_during_run(logs)
            if judge is not None:  # in memory only: the run folder is never written
                logs, after = score_after_run(logs, judge)
                scoring[path] = after or scoring[path]
            loaded[path] = logs
        return loaded.get(path) if path is not None else None

    complete, duplicates = keep_one_copy(complete, lambda path: (logs_of(path), read_general(path)))
    skipped += duplicates

    entries = []
    for path, manifest in complete:
        try:
            baselines = pick_baselines(manifest, complete)
            logs, frozen, oracle = logs_of(path), logs_of(baselines.frozen), logs_of(baselines.oracle)
            general = read_general(path)
            summary = summarise_run(logs, frozen, oracle, general=general, bootstrap=1)
        except InputError as exc:
            skipped.append({"run": path.name, "reason": str(exc)})
            continue
        entries.append(Entry(path, manifest, logs, frozen, oracle, general, baselines, summary,
                             headline_metrics(summary), rubric=scoring.get(path)))
    return entries, skipped


def run_folders(results_dir: Path) -> tuple[list[tuple[Path, dict[str, Any]]], list[dict[str, str]]]:
    """(folder, manifest) of every run folder in `results_dir`, and the folders that look like
    runs (a manifest.json or a run log) but cannot be read, with why: never dropped silently."""
    found, unreadable = [], []
    for path in sorted(p for p in results_dir.iterdir() if p.is_dir()):
        if not (path / "manifest.json").exists():
            if any(path.glob("*.jsonl")):
                unreadable.append({"run": path.name, "reason": "run logs without a manifest.json"})
            continue
        try:
            found.append((path, read_run(path).manifest.to_json()))
        except InputError as exc:
            unreadable.append({"run": path.name, "reason": f"manifest.json: {exc.problem}"})
    return found, unreadable


def _resample(records: Sequence[Any], key: str, draw: Sequence[str]) -> list[Any]:
    """Records of the drawn ids, the k-th draw renamed so repeated ids stay distinct."""
    by_id: dict[str, list[Any]] = defaultdict(list)
    for record in records:
        by_id[record[key] if isinstance(record, dict) else getattr(record, key)].append(record)
    out = []
    for k, rid in enumerate(draw):
        for record in by_id[rid]:
            new_id = f"{k}:{rid}"
            if isinstance(record, dict):
                out.append({**record, key: new_id})
            else:
                out.append(record.model_copy(update={key: new_id}))
    return out


def bootstrap_metrics(entry: Entry, n: int, seed: int) -> list[dict[str, float | None]]:
    """`n` resamples of the run's metrics: probe prompts (shared with its baselines), general
    questions and drift items drawn with replacement, everything else recomputed from the logs."""
    rng = np.random.default_rng(seed)
    # Which rows count is decided once, on the full sample: redone per resample, a row with
    # little headroom (or little to unlearn) drops out of exactly the resamples that draw its
    # passing prompts, and the interval can miss its own mean.
    keep = {(a.phase, a.preference) for a in entry.summary.adaptation if applicable(a.flags)}
    unlearn = [(u.phase, u.preference, u.start, u.end) for u in entry.summary.unlearning
               if u.perseveration is not None]
    right = sorted({g["id"] for g in entry.general or [] if int(g["t"]) == 0 and g["correct"]})
    last = max((int(g["t"]) for g in entry.general or []), default=0)
    probe_ids = sorted({p.probe_id for p in entry.logs.probes})
    general_ids = sorted({g["id"] for g in entry.general or []})
    drift_ids = sorted({d.id for d in entry.logs.drift})
    out = []
    for _ in range(n):
        draw = [probe_ids[i] for i in rng.integers(0, len(probe_ids), len(probe_ids))]
        general = None
        if general_ids:
            questions = [general_ids[i] for i in rng.integers(0, len(general_ids), len(general_ids))]
            general = _resample(entry.general, "id", questions)
        resampled = [
            dataclasses.replace(logs, probes=_resample(logs.probes, "probe_id", draw)) if logs else None
            for logs in (entry.logs, entry.frozen, entry.oracle)
        ]
        if drift_ids:
            items = [drift_ids[i] for i in rng.integers(0, len(drift_ids), len(drift_ids))]
            resampled[0] = dataclasses.replace(resampled[0], drift=_resample(entry.logs.drift, "id", items))
        summary = summarise_run(*resampled, general=general, bootstrap=1)
        metrics = {**headline_metrics(summary), **pinned_adaptation(summary.adaptation, keep),
                   "unlearning": pinned_unlearning(summary.unlearning, resampled[0].probes, unlearn)}
        if general_ids:
            metrics["retained"] = (pinned_retained(entry.general, right, last, rng)
                                   if right and entry.metrics["retained"] is not None else None)
        metrics["cost"] = None  # one timing: no interval to draw
        out.append(metrics)
    return out


def not_scored_cell(entries: Sequence[Entry]) -> dict[str, Any] | None:
    """The cell of runs whose every newly active preference is judge-scored and was not scored:
    named as such instead of an empty "–" (None when any row has a number or there are no runs)."""
    rows = [a for e in entries for a in e.summary.adaptation]
    if not rows or any(NOT_SCORED not in a.flags for a in rows):
        return None
    reasons = sorted({a.baseline_note.partition("' ")[2] for a in rows})
    return {"mean": None, "lo": None, "hi": None, "n_seeds": len({int(e.manifest["seed"]) for e in entries}),
            "n_runs": len(entries), "not_scored": "; ".join(reasons), "method": "no judge-scored verdicts"}


def rubric_fields(entry: Entry) -> dict[str, Any]:
    """A run's judge-scored preferences for the leaderboard's run list: who scored which, and
    which were not scored (nothing for runs without rubric wishes, so their rows read as before)."""
    out: dict[str, Any] = {}
    if entry.rubric:
        out["judge_scored"] = {"by": judge_words(entry.rubric["judge"]), "when": entry.rubric["when"],
                               "preferences": entry.rubric["preferences"]}
    if entry.summary.not_scored:
        out["not_scored"] = entry.summary.not_scored
    return out


def pinned_unlearning(unlearning: Sequence[UnlearningRow], probes: Sequence[Any],
                      rows: Sequence[tuple[int, str, int, int]]) -> float | None:
    """A resample's mean perseveration over the flip rows the full sample counts (`rows`:
    phase, preference, τ, end), each scored even where this resample's s(τ) sits under the
    nothing-to-unlearn line (metrics/unlearning.py scores any s(τ), b; only the flag blanks it)."""
    if not rows:
        return None
    curves = adherence_curves(probes)
    b = {(u.phase, u.preference): u.b for u in unlearning}
    values = []
    for phase, pref, start, end in rows:
        curve, base = curves.get(pref), b.get((phase, pref))
        if curve is None or base is None:
            continue
        u = unlearning_score(curve.window(start + 1, end).s, curve.at_or_before(start), base)
        values.append(mean_finite(1.0 - u))
    value = mean_finite(values)
    return None if np.isnan(value) else float(value)


def pinned_retained(general: Sequence[dict[str, Any]], right: Sequence[str], last: int,
                    rng: np.random.Generator) -> float | None:
    """Accuracy at the last time on a resample of the questions the full sample had right at
    t=0: the set the metric is defined on is fixed once, so no resample can lose it."""
    at_end = {str(g["id"]): bool(g["correct"]) for g in general if int(g["t"]) == last}
    drawn = [right[i] for i in rng.integers(0, len(right), len(right))]
    scored = [float(at_end[q]) for q in drawn if q in at_end]
    return float(np.mean(scored)) if scored else None


def pinned_adaptation(adaptation: Sequence[AdaptationRow], keep: set[tuple[int, str]]) -> dict[str, float | None]:
    """A resample's adaptation and final means over the rows the full sample counts (`keep`)."""
    rows = [a for a in adaptation if (a.phase, a.preference) in keep]
    values = {"adaptation": mean_finite([a.aulc for a in rows]),
              "final": mean_finite([a.final_s for a in rows])}
    return {k: (None if np.isnan(v) else v) for k, v in values.items()}


def cell_stats(entries: Sequence[Entry], metric: str, n_boot: int) -> dict[str, Any] | None:
    """Mean over users (seeds) of each user's mean over its runs of `metric`, with a 95% CI.

    The simulated user is the independent unit: with U >= 2 users the interval is the t
    interval mean ± t_{0.975, U-1} · sd(user means)/√U, clipped to the metric's range
    (`BOUNDS`; few users can put an end past 0 or 1). A user's mean already carries its
    prompt-to-prompt noise, so this counts within-user variance once, and every applicability
    decision (no headroom, nothing to unlearn, unreachable, no general question right at
    t=0) was made on the full sample: a user whose value is not applicable is not a user of
    this cell, in no resample. With one user there is nothing to spread over, so the interval
    bootstraps that user's probe prompts (`n_boot` resamples, decisions held, seeded, so a
    leaderboard rebuilds identically) and says so. Cost gets the mean only: one timing a run.
    """
    by_seed: dict[int, list[Entry]] = defaultdict(list)
    for entry in entries:
        if entry.metrics[metric] is not None:
            by_seed[int(entry.manifest["seed"])].append(entry)
    if not by_seed:
        return None
    seeds = sorted(by_seed)
    per_user = np.array([np.mean([e.metrics[metric] for e in by_seed[s]]) for s in seeds])
    mean = float(per_user.mean())
    base = {"n_seeds": len(seeds), "n_runs": sum(len(v) for v in by_seed.values())}
    if metric == "cost":
        return {"mean": mean, "lo": None, "hi": None, **base,
                "method": f"mean over {len(seeds)} seed(s); no interval (one timing per run)"}
    if len(seeds) > 1:
        df = len(seeds) - 1
        half = t_quantile(0.975, df) * float(per_user.std(ddof=1)) / np.sqrt(len(seeds))
        bounds = BOUNDS.get(metric)
        lo, hi = clip_interval(mean - half, mean + half, bounds)
        clipped = f"; clipped to the metric's range [{bounds[0]:g}, {bounds[1]:g}]" if bounds else ""
        return {"mean": mean, "lo": lo, "hi": hi, **base, "df": df,
                "method": f"t-interval over {len(seeds)} users (seeds; {df} df) of the per-user means{clipped}"}
    if n_boot < 1:
        return {"mean": mean, "lo": None, "hi": None, **base, "method": "one seed, no resamples: no interval"}
    stats = []
    for entry in by_seed[seeds[0]]:
        if not entry.resamples:
            entry.resamples = bootstrap_metrics(entry, n_boot, int(entry.manifest["seed"]))
    for draw in range(n_boot):
        values = [v for e in by_seed[seeds[0]] if (v := e.resamples[draw][metric]) is not None]
        if values:
            stats.append(np.mean(values))
    if not stats:
        return {"mean": mean, "lo": None, "hi": None, **base, "method": "no interval"}
    lo, hi = np.percentile(stats, [2.5, 97.5])
    pool = {"drift": "drift items", "retained": "general questions"}.get(metric, "probe prompts")
    return {"mean": mean, "lo": float(lo), "hi": float(hi), **base,
            "method": f"one seed: bootstrap over its {pool} ({n_boot} resamples); says nothing about other users"}


def build_leaderboard(results_dir: str | Path, bootstrap: int = 2000, judge: Any = None) -> Leaderboard:
    """The leaderboard of every complete run in `results_dir`, typed; with a
    `judge` (simbench.judge.Judge) it adds the win rate against the frozen arm (reporting/win_rate.py)."""
    results_dir = Path(results_dir)
    entries, skipped = collect(results_dir, judge)
    if not entries:
        reasons = "; ".join(f"{s['run']}: {s['reason']}" for s in skipped[:3])
        raise InputError("RESULTS_DIR", f"no complete, readable runs in {results_dir} ({reasons})")
    scenarios = [s for s in SCENARIOS if any(e.summary.scenario == s for e in entries)]
    scenarios += sorted({e.summary.scenario for e in entries} - set(scenarios))
    groups: dict[tuple[str, str], dict[str, list[Entry]]] = defaultdict(lambda: defaultdict(list))
    for entry in entries:
        groups[entry.row][entry.summary.scenario].append(entry)
    order = {FROZEN: 0, ORACLE: 1}
    metrics = {**METRICS, "win_rate": WIN_RATE} if judge is not None else METRICS
    rows = []
    for learner, model in sorted(groups, key=lambda r: (order.get(r[0], 2), r)):
        cells = {}
        for s in scenarios:
            row_entries = groups[(learner, model)][s]
            cells[s] = {**specificity_cells(row_entries, entries),
                        **{m: cell_stats(row_entries, m, bootstrap) for m in METRICS if m not in SPECIFICITY}}
            for m in ("adaptation", "final"):
                cells[s][m] = cells[s][m] or not_scored_cell(row_entries)
            if judge is not None:
                cells[s]["win_rate"] = win_rate_cell(
                    [(int(e.manifest["seed"]), e.logs, e.frozen) for e in row_entries
                     if e.frozen is not None and learner != FROZEN], judge)
        rows.append({"learner": learner, "model": model, "cells": cells})
    columns = [{"scenario": s, "metric": m} for s in scenarios for m in metrics
               if any(row["cells"][s][m] is not None for row in rows)]
    return Leaderboard.model_validate({
        "schema_version": LEADERBOARD_VERSION,
        "results_dir": str(results_dir),
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "bootstrap": bootstrap,
        "metrics": metrics,
        **({"judge": judge.identity()} if judge is not None else {}),  # unjudged boards read as before
        "columns": columns,
        "rows": rows,
        "provenance": provenance([e.manifest for e in entries], [e.rubric for e in entries if e.rubric]),
        "notes": notes(entries, skipped, bootstrap),
        "runs": [{"run": e.path.name, "persona": e.manifest["persona"].get("id"), "learner": e.row[0],
                  "model": e.row[1], "seed": e.manifest["seed"], "scenario": e.summary.scenario,
                  "frozen_baseline": e.baselines.frozen.name if e.baselines.frozen else None,
                  "oracle_baseline": e.baselines.oracle.name if e.baselines.oracle else None,
                  "metrics": e.metrics, **rubric_fields(e)} for e in entries],
        "skipped": skipped,
    })


def write_leaderboard(results_dir: str | Path, out: str | Path | None = None,
                      bootstrap: int = 2000, judge: Any = None) -> tuple[Path, Path, Path]:
    """Write leaderboard.md, .html and .json into `out` (default: the results folder)."""
    board = build_leaderboard(results_dir, bootstrap=bootstrap, judge=judge)
    folder = Path(out) if out is not None else Path(results_dir)
    folder.mkdir(parents=True, exist_ok=True)
    paths = folder / "leaderboard.md", folder / "leaderboard.html", folder / "leaderboard.json"
    # Atomic writes: a symbolic link planted at any of the names is replaced, never written through.
    write_atomic(paths[0], leaderboard_markdown(board))
    write_atomic(paths[1], leaderboard_html(board))
    write_atomic(paths[2], json.dumps(board.dump(), indent=2, allow_nan=False) + "\n")
    return paths
