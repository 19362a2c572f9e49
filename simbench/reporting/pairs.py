"""Runs that pair with a run: its unrelated-feedback control twin, its frozen arm, and (for a
flip) the matching no-flip run; and the paired comparisons with them, from run folders alone.

Specificity = adherence(learner) - adherence(its unrelated-feedback twin), and the same
against `frozen`, paired by seed and probe prompt (metrics/paired.py): the number that says
whether the learner learned from what the user said, beyond the drift any follow-up causes.
"""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path
from typing import Any, Mapping, Sequence

from simbench.arms import control_names
from simbench.learners import LEARNERS
from simbench.metrics import load_run_logs
from simbench.metrics.adaptation import NO_HEADROOM
from simbench.metrics.curves import adherence_curves, phase_windows
from simbench.metrics.flip import change_scores, first_flip
from simbench.metrics.paired import after_scores, paired_differences, paired_interval, phase_end_scores
from simbench.metrics.run_summary import UnlearningRow
from simbench.metrics.summary import unreachable_preferences
from simbench.metrics.unlearning import NOTHING_TO_UNLEARN
from simbench.reporting.flip_report import flip_comparison, flip_end, flip_section, unlearning_applicable, with_verdict
from simbench.reporting.format import Section, fmt
from simbench.reporting.peers import FROZEN, comparable_key

# Config keys a flip run and its no-flip match may differ in (the persona and its length).
NOT_COMPARED = ("persona", "interactions", "checkpoint_every", "device")


def matching_run(manifest: Mapping[str, Any], candidates: Sequence[tuple[Path, dict[str, Any]]],
                 learners: Sequence[str]) -> Path | None:
    """The run among `candidates` of one of `learners` comparable to `manifest` (same persona,
    seed, model, length and probe set); complete runs first, then by folder name."""
    key = comparable_key(dict(manifest))
    matches = [(m.get("status") != "complete", str(p), p) for p, m in candidates
               if m.get("learner") in learners and comparable_key(m) == key]
    return min(matches)[2] if matches else None


def feedback_of(manifest: Mapping[str, Any]) -> str | None:
    """What a run's learner learned from ("user", "unrelated" or None), as its manifest records
    it; by the learner's registration for manifests written before the field (or a plugin's
    learner reported without its plugin, whose manifest still says)."""
    return manifest.get("feedback") or LEARNERS.feedback_of(str(manifest.get("learner")))


def control_of(manifest: Mapping[str, Any], candidates: Sequence[tuple[Path, dict[str, Any]]]) -> Path | None:
    """The unrelated-feedback twin of a feedback-driven learner's run, if one was made."""
    if feedback_of(manifest) != "user":
        return None
    return matching_run(manifest, candidates, control_names(str(manifest.get("learner"))))


def no_flip_match(manifest: Mapping[str, Any], candidates: Sequence[tuple[Path, dict[str, Any]]],
                  tau: int) -> Path | None:
    """A run of the same learner, seed and settings whose schedule equals this one's before τ
    and keeps the pre-τ preferences at τ (no flip), probed on the same prompts after τ."""
    schedule = (manifest.get("persona") or {}).get("schedule") or []
    before = [phase for phase in schedule if phase["at"] < tau]
    for path, other in sorted(candidates, key=lambda c: (c[1].get("status") != "complete", str(c[0]))):
        theirs = (other.get("persona") or {}).get("schedule") or []
        if (other.get("learner") != manifest.get("learner") or other.get("seed") != manifest.get("seed")
                or other.get("model") != manifest.get("model") or not _same_settings(manifest, other)):
            continue
        same_start = [phase for phase in theirs if phase["at"] < tau] == before
        no_change_at_tau = all(phase["at"] < tau or phase["at"] > tau for phase in theirs)
        if same_start and no_change_at_tau and int(other.get("interactions") or 0) > tau:
            return path
    return None


def _same_settings(a: Mapping[str, Any], b: Mapping[str, Any]) -> bool:
    config_a = {k: v for k, v in (a.get("config") or {}).items() if k not in NOT_COMPARED}
    config_b = {k: v for k, v in (b.get("config") or {}).items() if k not in NOT_COMPARED}
    prompts_a, prompts_b = a.get("prompts") or {}, b.get("prompts") or {}
    return config_a == config_b and all(
        json.dumps(prompts_a.get(k), sort_keys=True) == json.dumps(prompts_b.get(k), sort_keys=True)
        for k in ("train", "probe"))


def prompt_scores(logs: Any) -> dict[str, float]:
    """Per probe prompt: pass rate at phase ends on the active preferences (metrics/paired.py),
    leaving out preferences the run's token cap made impossible."""
    windows = phase_windows(logs.schedule, logs.episode_length)
    return phase_end_scores(adherence_curves(logs.probes), windows, unreachable_preferences(logs.manifest))


def specificity(pairs: Sequence[tuple[int, str, Any, Any]]) -> dict[str, Any] | None:
    """Mean paired adherence(run) - adherence(other) over (seed, persona, prompt), with its
    interval over users. `pairs` holds (seed, persona id, run logs, other logs); the scores
    are `prompt_scores`."""
    return paired_cell([(s, prompt_scores(a), prompt_scores(b)) for s, _, a, b in pairs])


def paired_cell(pairs: Sequence[tuple[int, Mapping[str, float], Mapping[str, float]]]) -> dict[str, Any] | None:
    """Per-prompt score differences grouped by seed (the simulated user, the independent
    unit), with the t interval of metrics/paired.py.

    `pairs` holds (seed, scores of the run, scores of the other run), one per run pair; the
    pairs of one seed (several personas) form one cluster.
    """
    by_seed: dict[int, list[float]] = defaultdict(list)
    for run_seed, mine, theirs in pairs:
        by_seed[run_seed].extend(paired_differences(mine, theirs).tolist())
    result = paired_interval([by_seed[s] for s in sorted(by_seed)])
    return result.to_dict() if result is not None else None


def run_pairs(logs: Any, candidates: Sequence[tuple[Path, dict[str, Any]]], frozen: Any,
              unlearning: Sequence[UnlearningRow] = ()) -> dict[str, Any]:
    """What a run report shows about the runs it pairs with: specificity against its control
    twin and against frozen, and for a flip its curves, the matching no-flip run (when here)
    and the verdict (reporting/flip_report.py; `unlearning`: the run summary's unlearning rows)."""
    out: dict[str, Any] = {"feedback": feedback_of(logs.manifest), "control": None, "vs_control": None,
                           "vs_frozen": None, "no_flip": None, "flip": None}
    control = control_of(logs.manifest, candidates)
    if control is not None:
        out["control"] = control.name
        out["vs_control"] = specificity([(logs.seed, "", logs, load_run_logs(control))])
    if frozen is not None and logs.learner != FROZEN:
        out["vs_frozen"] = specificity([(logs.seed, "", logs, frozen)])
    flip = first_flip(phase_windows(logs.schedule, logs.episode_length), logs.opposites)
    if flip is not None:
        match = no_flip_match(logs.manifest, candidates, flip[0])
        out["no_flip"] = match.name if match is not None else None
        out["flip"] = flip_comparison(logs, load_run_logs(match) if match is not None else None, unlearning)
    return out


def fmt_paired(result: Mapping[str, Any] | None) -> list[str]:
    """[mean [lo, hi], n, MDD] cells of a paired result ("–" when there is none)."""
    if result is None:
        return ["–", "–", "–"]
    n = f"{result['n']} ({result['n_seeds']} seed{'s' if result['n_seeds'] != 1 else ''} x prompts)"
    return [signed_interval(result["mean"], result["lo"], result["hi"]), n, fmt(result["mdd"])]


def signed_interval(mean: float, lo: float, hi: float) -> str:
    """"+m [lo, hi]" with signs, since a difference's sign is the point."""
    return f"{mean:+.2f} [{lo:+.2f}, {hi:+.2f}]"


def pair_sections(pairs: Mapping[str, Any] | None) -> list[Any]:
    """Report tables: specificity first (the headline), then a flip (reporting/flip_report.py)."""
    if not pairs:
        return []
    sections = []
    headers = ["compared with", "run", "difference [95% CI]", "n pairs", "min. detectable difference"]
    rows = []
    if pairs.get("feedback") == "user":
        rows.append(["unrelated-feedback twin", pairs.get("control") or "not in this folder",
                     *fmt_paired(pairs.get("vs_control"))])
    if pairs.get("vs_frozen") is not None:
        rows.append(["frozen", "frozen arm", *fmt_paired(pairs["vs_frozen"])])
    if rows:
        sections.append(Section(
            "Specificity: adherence on the active preferences minus the other run's", headers, rows,
            ["paired by probe prompt (same seed: same prompts and start); adherence = pass rate at "
             "each phase's end on that phase's preferences, token-cap-unreachable ones left out",
             "95% CI: t-interval over users (seeds), or over probe prompts with one user, clipped to "
             "[-1, 1]; min. "
             "detectable difference = (t_0.975 + t_0.80) x SE at those df: a smaller true "
             "difference is likely to go unseen at this n"]))
    flip = pairs.get("flip")
    if flip:
        sections.append(flip_section(flip, pairs.get("no_flip")))
    return sections


def specificity_cells(row: Sequence[Any], entries: Sequence[Any]) -> dict[str, Any]:
    """The leaderboard's specificity cells of one row and scenario type (report.leaderboard
    Entry objects): against each run's unrelated-feedback twin and against its frozen arm."""
    by_path = {entry.path: entry for entry in entries}
    candidates = [(entry.path, entry.manifest) for entry in entries]
    to_control, to_frozen, controls = [], [], set()
    for entry in row:
        seed, persona = int(entry.manifest["seed"]), str((entry.manifest.get("persona") or {}).get("id"))
        control = control_of(entry.manifest, candidates)
        if control in by_path:
            to_control.append((seed, persona, entry.logs, by_path[control].logs))
            controls.add(by_path[control].manifest["learner"])
        if entry.frozen is not None and entry.manifest["learner"] != FROZEN:
            to_frozen.append((seed, persona, entry.logs, entry.frozen))
    vs_control = specificity(to_control) if to_control else None
    if vs_control is not None:
        vs_control["control"] = ", ".join(sorted(controls))
        vs_control["n_runs"] = len(to_control)
    vs_frozen = specificity(to_frozen) if to_frozen else None
    if vs_frozen is not None:
        vs_frozen["n_runs"] = len(to_frozen)
    return {"specificity": vs_control, "vs_frozen": vs_frozen,
            "flip_vs_no_flip": flip_cell(row, by_path, candidates)}


def flip_cell(row: Sequence[Any], by_path: Mapping[Path, Any],
              candidates: Sequence[tuple[Path, dict[str, Any]]]) -> dict[str, Any] | None:
    """Old-preference adherence after τ, flip run minus matching no-flip run, paired by seed
    and prompt over the row's flip runs (None when no flip run has its no-flip match here),
    with both wishes' change from τ over the same runs and the verdict (reporting/flip_report.py)."""
    pairs, new_sides, old_sides, unlearning, wishes = [], [], [], [], set()
    for entry in row:
        logs = entry.logs
        flip = first_flip(phase_windows(logs.schedule, logs.episode_length), logs.opposites)
        match = no_flip_match(entry.manifest, candidates, flip[0]) if flip is not None else None
        if match is None or match not in by_path:
            continue
        tau, old, new = flip
        curves, seed = adherence_curves(logs.probes), int(entry.manifest["seed"])
        mine, theirs = curves.get(old), adherence_curves(by_path[match].logs.probes).get(old)
        if mine is None or theirs is None:
            continue
        common = {int(t) for t in mine.t} & {int(t) for t in theirs.t}
        pairs.append((seed, after_scores(mine, tau, common), after_scores(theirs, tau, common)))
        for sides, pref in ((new_sides, new), (old_sides, old)):
            scores = change_scores(curves[pref], tau, flip_end(logs, tau)) if pref in curves else None
            if scores is not None:
                sides.append((seed, *scores))
        unlearning += [u for u in entry.summary.unlearning if u.preference == old]
        wishes.add((old, new))
    cell = paired_cell(pairs) if pairs else None
    if cell is not None:
        cell["n_runs"] = len(pairs)
        old, new = (" / ".join(sorted({w[k] for w in wishes})) for k in (0, 1))
        flip = with_verdict({"old": old, "new": new, "paired": dict(cell),
                             "new_change": paired_cell(new_sides) if new_sides else None,
                             "old_change": paired_cell(old_sides) if old_sides else None},
                            unlearning_applicable(unlearning))
        cell.update({k: flip[k] for k in ("new_change", "old_change", "unlearning_applicable", "verdict",
                                          "verdict_words")})
    return cell


def specificity_notes(entries: Sequence[Any]) -> list[str]:
    """How specificity is read, and which feedback-driven learners lack their control twin."""
    candidates = [(entry.path, entry.manifest) for entry in entries]
    missing = sorted({entry.manifest["learner"] for entry in entries
                      if feedback_of(entry.manifest) == "user"
                      and control_of(entry.manifest, candidates) is None})
    out = ["specificity and vs_frozen: mean paired difference in adherence (pass rate at each "
           "phase's end on that phase's preferences) [95% t-interval with the simulated user (seed) as "
           "the unit: cluster-robust SE of the mean over pairs, users - 1 df, clipped to [-1, 1]]; "
           "n = pairs (seeds x personas x prompts); MDD = (t_0.975 + t_0.80) x SE at those df, the "
           "smallest true difference likely to be detected at that n"]
    out += [f"'{learner}' has no unrelated-feedback twin here, so no specificity: add "
            f"`--learners {learner}+unrelated` to the sweep" for learner in missing]
    seeds = len({int(entry.manifest["seed"]) for entry in entries})
    if 1 < seeds < 3:
        out.append(f"{seeds} seeds: a t-interval with {seeds - 1} df is very wide (t_0.975 = 12.7); "
                   "use 5 or more users for a claim")
    return out


def not_applicable_notes(entries: Sequence[Any]) -> list[str]:
    """How many rows were not applicable (no headroom, nothing to unlearn) and left out of means."""
    headroom = sum(NO_HEADROOM in a.flags for e in entries for a in e.summary.adaptation)
    unlearn = sum(NOTHING_TO_UNLEARN in u.flags for e in entries for u in e.summary.unlearning)
    out = []
    if headroom:
        out.append(f"{headroom} adaptation row(s) have no headroom (oracle c <= frozen b): not "
                   "applicable, left out of the adaptation and final columns")
    if unlearn:
        out.append(f"{unlearn} unlearning row(s) had nothing to unlearn (adherence at the flip "
                   "less than 0.1 above b): not applicable, left out of the unlearning column")
    return out
