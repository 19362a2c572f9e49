"""One typed summary per run (`RunSummary`, metrics/run_summary.py): scenario type, baselines,
adaptation, unlearning, forgetting, drift and cost. Reports and the leaderboard read it instead
of recomputing metrics."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any, Iterable, Mapping, Sequence

import numpy as np

from simbench.errors import InputError
from simbench.logs.schema import ProbeRecord
from simbench.metrics.adaptation import (
    NO_HEADROOM,
    SUSTAIN,
    THRESHOLD,
    adaptation_in_phase,
    newly_active,
    normalised_gain,
)
from simbench.metrics.cost import run_cost
from simbench.metrics.curves import (
    Curve,
    PhaseWindow,
    adherence_curves,
    bootstrap_ci,
    mean_finite,
    not_scored,
    phase_windows,
    row_means,
)
from simbench.metrics.drift import collateral_drift
from simbench.metrics.forgetting import forgetting_metrics, general_drift
from simbench.metrics.run_summary import RunSummary
from simbench.metrics.unlearning import unlearning_events, unlearning_in_phase
from simbench.metrics.user_quality import follow_up_quality
from simbench.persona.library import BUILTIN
from simbench.persona.preference import beyond_cap, token_floors
from simbench.persona.scenario import scenario_of

if TYPE_CHECKING:
    from simbench.metrics import RunLogs


def detect_scenario(windows: Sequence[PhaseWindow], opposites: Mapping[str, str]) -> str:
    """The schedule's scenario type (persona/scenario.py, the vocabulary every command uses)."""
    return scenario_of([window.preferences for window in windows], opposites)


def baselines_from_runs(
    frozen: RunLogs | None, oracle: RunLogs | None, pref: str, phase: int, *, run: RunLogs
) -> tuple[float, float, str]:
    """(b, c, note) for `pref` in schedule phase `phase` of `run`.

    b = the frozen arm's adherence (mean over its probe times: its model never changes);
    without a frozen run, `run`'s adherence at t=0, before any interaction. c = the
    in-context oracle's adherence while `phase` is active; without one, 1. `note` says which.
    """
    windows = phase_windows(run.schedule, run.episode_length)
    if not 0 <= phase < len(windows):
        raise InputError("phase", f"{phase} is not a phase of the schedule (0..{len(windows) - 1})")
    return _baselines(
        adherence_curves(frozen.probes) if frozen else None,
        adherence_curves(oracle.probes) if oracle else None,
        adherence_curves(run.probes),
        pref,
        windows[phase],
        is_last=phase == len(windows) - 1,
    )


def _baselines(
    frozen: Mapping[str, Curve] | None, oracle: Mapping[str, Curve] | None,
    own: Mapping[str, Curve], pref: str, window: PhaseWindow, is_last: bool,
) -> tuple[float, float, str]:
    notes = []
    frozen_curve = frozen.get(pref) if frozen is not None else None
    if frozen_curve is not None and np.any(~np.isnan(frozen_curve.s)):
        b = mean_finite(frozen_curve.s)
        notes.append(f"b = frozen-arm adherence (mean of {frozen_curve.t.size} probe times)")
    else:
        why = "no frozen run" if frozen is None else f"frozen run never checked '{pref}'"
        own_curve = own.get(pref)
        if own_curve is None or own_curve.t.size == 0:
            b = float("nan")
            notes.append(f"{why} and no probes of '{pref}': b unknown")
        elif own_curve.t[0] == 0:
            b = float(own_curve.s[0])
            notes.append(f"{why}: b = adherence at t=0")
        else:
            b = float(own_curve.s[0])
            notes.append(f"{why} and no probe at t=0: b = adherence at t={int(own_curve.t[0])}")
    oracle_curve = oracle.get(pref) if oracle is not None else None
    # The oracle's prompt holds the phase's preferences while they are active: start <= t < end
    # (the probe at `end` already sees the next phase), plus t = T in the last phase.
    active = (
        oracle_curve.window(window.start, window.end if is_last else window.end - 1)
        if oracle_curve is not None else None
    )
    if active is not None and np.any(~np.isnan(active.s)):
        c = mean_finite(active.s)
        notes.append(f"c = in-context-oracle adherence in phase {window.index + 1} ({active.t.size} probe times)")
    else:
        c = 1.0
        why = (
            "no oracle run" if oracle is None
            else f"oracle run has no probes of '{pref}' in phase {window.index + 1}"
        )
        notes.append(f"{why}: c = 1")
    return b, c, "; ".join(notes)


UNREACHABLE = "unreachable_at_token_cap"
NOT_SCORED = "not_scored"
NOT_SCORED_NO_JUDGE = "not scored (no judge)"
NOT_SCORED_UNREADABLE = "not scored (the judge's replies were unparseable)"
# Adaptation rows with these flags have no gain to measure: reported, kept out of means.
NOT_APPLICABLE = (UNREACHABLE, NO_HEADROOM, NOT_SCORED)


def applicable(flags: Iterable[str]) -> bool:
    """Whether an adaptation row with these `flags` counts in means (see NOT_APPLICABLE)."""
    return not any(flag in NOT_APPLICABLE for flag in flags)


def unreachable_preferences(manifest: Mapping[str, Any]) -> set[str]:
    """Preferences no answer of the run could pass: they need more tokens than max_new_tokens.

    Floors come from the manifest's persona.min_tokens; manifests written before that field
    existed fall back to the built-in preferences' floors.
    """
    cap = (manifest.get("config") or {}).get("max_new_tokens")
    persona = manifest.get("persona") or {}
    if not isinstance(cap, int):
        return set()
    floors = persona.get("min_tokens")
    if not isinstance(floors, dict):
        floors = token_floors(BUILTIN[pid] for pid in persona.get("ever", []) if pid in BUILTIN)
    return set(beyond_cap({pid: f for pid, f in floors.items() if isinstance(f, int)}, cap))


def summarise_run(
    logs: RunLogs,
    frozen: RunLogs | None = None,
    oracle: RunLogs | None = None,
    general: Iterable[Mapping[str, Any]] | None = None,
    threshold: float = THRESHOLD,
    sustain: int = SUSTAIN,
    bootstrap: int = 1000,
) -> RunSummary:
    """All metrics of one run, typed; NaN and inf become null.

    `frozen`/`oracle` are the same persona's frozen and in-context-oracle runs (baselines b
    and c); `general` are optional general-capability probe results {t, id, correct}.
    Collateral drift comes from the run's drift records (`measured: false` without them). CIs
    bootstrap over probe prompts with b and c held fixed, seeded by the run's seed.
    """
    for name, other in (("frozen", frozen), ("oracle", oracle)):
        if other is not None and other.schedule != logs.schedule:
            raise InputError(
                f"{name} run {other.run_dir or ''}",
                "has a different persona schedule than the run",
                "compare arms of the same persona",
            )
    windows = phase_windows(logs.schedule, logs.episode_length)
    curves = adherence_curves(logs.probes)
    # Judge-scored wishes of a run without a judge (or with unreadable verdicts) are logged
    # with passed=null: they get a "not scored" row, never a number and never an error.
    unscored = {pref: not_scored_reason(logs.probes, pref) for pref in not_scored(logs.probes)}
    for window in windows:
        for pref in window.preferences:
            if pref not in curves and pref not in unscored:
                raise InputError(
                    f"probes.jsonl of {logs.run_dir or 'the run'}",
                    f"no record checks '{pref}'",
                    "probes must check every preference of the schedule",
                )
    frozen_curves = adherence_curves(frozen.probes) if frozen else None
    oracle_curves = adherence_curves(oracle.probes) if oracle else None

    def baselines(pref: str, window: PhaseWindow) -> tuple[float, float, str]:
        is_last = window.index == len(windows) - 1
        return _baselines(frozen_curves, oracle_curves, curves, pref, window, is_last)

    unreachable = unreachable_preferences(logs.manifest)
    adaptation = []
    for window, pref in newly_active(windows):
        if pref in unscored:
            adaptation.append(not_scored_row(pref, window, unscored[pref]))
            continue
        b, c, note = baselines(pref, window)
        result = adaptation_in_phase(curves[pref], window, b, c, threshold, sustain).to_dict()
        cis = _adaptation_cis(curves[pref], window, b, c, bootstrap, logs.seed)
        if pref in unreachable:
            # b = c = 0 would read as "kept the ceiling" (g = 1): there is no gain to measure.
            result["flags"].append(UNREACHABLE)
            result.update(aulc=math.nan, final_g=math.nan, steps_to_threshold=None, censored=False)
            cis["aulc_ci"] = [math.nan, math.nan]
        adaptation.append({**result, "baseline_note": note, **cis})
    unlearning = []
    for event in unlearning_events(windows, logs.opposites):
        if event.preference in unscored:
            continue  # nothing measured to fade; the adaptation table names it as not scored
        window = windows[event.to_phase]
        b, _, note = baselines(event.preference, window)
        unlearned = unlearning_in_phase(curves[event.preference], event, window, b, threshold, sustain)
        unlearning.append({**unlearned.to_dict(), "baseline_note": note})
    scenario = detect_scenario(windows, logs.opposites)
    forgetting = None
    if scenario == "complementary":
        b_by_pref = {pref: baselines(pref, window)[0] for window, pref in newly_active(windows)
                     if pref not in unscored}
        forgetting = forgetting_metrics(curves, windows, b_by_pref).to_dict()
    summary = {
        "learner": logs.learner,
        "seed": logs.seed,
        "episode_length": logs.episode_length,
        "scenario": scenario,
        "threshold": threshold,
        "sustain": sustain,
        "phases": [{"index": w.index, "start": w.start, "end": w.end, "preferences": list(w.preferences)}
                   for w in windows],
        "adherence": {pref: {"t": curve.t.tolist(), "s": curve.s.tolist()} for pref, curve in curves.items()},
        "adaptation": adaptation,
        "unlearning": unlearning,
        "forgetting": forgetting,
        "general_drift": general_drift(general).to_dict() if general is not None else None,
        "collateral_drift": collateral_drift([r.model_dump() for r in logs.drift]),
        "cost": run_cost(logs.interactions, logs.updates, logs.probes, logs.manifest).to_dict(),
        "user_quality": follow_up_quality(logs.interactions),
        "headline": _headline(adaptation, unlearning, forgetting),
    }
    if unscored:
        summary["not_scored"] = unscored
    return RunSummary.model_validate(_jsonable(summary))


def not_scored_reason(probes: Sequence[ProbeRecord], pref: str) -> str:
    """Why `pref` has no score: the run had no judge, or its judge's replies were unreadable."""
    scorers = {r.checks[pref].scorer for r in probes if pref in r.checks}
    return NOT_SCORED_NO_JUDGE if "none" in scorers else NOT_SCORED_UNREADABLE


def not_scored_row(pref: str, window: PhaseWindow, reason: str) -> dict[str, Any]:
    """An adaptation row for a preference nobody scored: every number empty, flagged."""
    return {"phase": window.index, "preference": pref, "start": window.start, "end": window.end,
            "b": None, "c": None, "n_probes": 0, "steps_to_threshold": None, "censored": False,
            "aulc": None, "final_s": None, "final_g": None, "flags": [NOT_SCORED],
            "baseline_note": f"'{pref}' {reason}", "aulc_ci": [None, None], "final_s_ci": [None, None]}


def _adaptation_cis(curve: Curve, window: PhaseWindow, b: float, c: float, n: int, seed: int) -> dict:
    """95% bootstrap CIs over probe prompts for AULC and final adherence."""
    inside = curve.window(window.start, window.end)
    if inside.t.size == 0:
        return {"aulc_ci": [None, None], "final_s_ci": [None, None]}
    by_prompt = inside.passed.T  # prompts x times

    def aulc(sample: np.ndarray) -> float:
        return mean_finite(normalised_gain(row_means(sample.T), b, c))

    return {
        "aulc_ci": list(bootstrap_ci(by_prompt, n=n, seed=seed, statistic=aulc)),
        "final_s_ci": list(bootstrap_ci(by_prompt[:, -1], n=n, seed=seed)),
    }


def _headline(adaptation: list[dict], unlearning: list[dict], forgetting: dict | None) -> dict:
    """Run-level means for leaderboards (censored steps count as the phase length).

    Not-applicable rows are left out of the means: preferences the run's token cap made
    impossible (b = c = 0 would score as "kept the ceiling" for every arm), preferences
    without headroom (c <= b), and unlearning rows with nothing to unlearn (NaN values)."""
    adaptation = [a for a in adaptation if applicable(a["flags"])]
    flips = [u for u in unlearning if u["kind"] == "flip"]
    return {
        "aulc": mean_finite([a["aulc"] for a in adaptation]),
        "final_s": mean_finite([a["final_s"] for a in adaptation]),
        "steps_to_threshold": mean_finite([a["steps_to_threshold"] for a in adaptation]),
        "censored": sum(a["censored"] for a in adaptation),
        "perseveration": mean_finite([u["perseveration"] for u in flips]),
        "steps_to_unlearn": mean_finite([u["steps_to_unlearn"] for u in flips]),
        "acc": forgetting["acc"] if forgetting else None,
        "bwt": forgetting["bwt"] if forgetting else None,
    }


def _jsonable(value: Any) -> Any:
    """Plain JSON values: numpy scalars/arrays unwrapped, NaN and inf as None."""
    if isinstance(value, dict):
        return {str(key): _jsonable(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(item) for item in value]
    if isinstance(value, np.ndarray):
        return _jsonable(value.tolist())
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return float(value) if math.isfinite(value) else None
    return value
