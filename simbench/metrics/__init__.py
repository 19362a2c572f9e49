"""Metrics computed from a run folder's logs alone (docs/metrics.md), so runs can be re-scored.

This module holds `RunLogs` and its loader (over `logs.run_folder.read_run`); the math lives in
curves / adaptation / unlearning / forgetting / cost / summary as pure functions.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from simbench.logs.run_folder import read_run
from simbench.logs.schema import DriftRecord, InteractionRecord, PhaseInfo, ProbeRecord, UpdateLogRecord
from simbench.metrics.adaptation import (
    AdaptationResult,
    adaptation_in_phase,
    normalised_gain,
    sustained_steps,
)
from simbench.metrics.cost import RunCost, run_cost
from simbench.metrics.curves import Curve, PhaseWindow, adherence_curves, bootstrap_ci, phase_windows
from simbench.metrics.forgetting import ForgettingResult, forgetting_metrics, general_drift
from simbench.metrics.summary import baselines_from_runs, detect_scenario, summarise_run
from simbench.metrics.unlearning import UnlearningResult, unlearning_in_phase, unlearning_score


@dataclass(frozen=True)
class RunLogs:
    """Everything metrics need from one run: the schedule, episode length and the records.

    `opposites` maps a preference id to its opposite (from the manifest's optional
    "persona.opposites"); it is what tells a flip from a drop.
    """

    schedule: list[PhaseInfo]
    episode_length: int
    learner: str
    seed: int
    probes: list[ProbeRecord]
    interactions: list[InteractionRecord] = field(default_factory=list)
    updates: list[UpdateLogRecord] = field(default_factory=list)
    opposites: dict[str, str] = field(default_factory=dict)
    drift: list[DriftRecord] = field(default_factory=list)
    manifest: dict[str, Any] = field(default_factory=dict)
    run_dir: Path | None = None


def load_run_logs(run_dir: str | Path) -> RunLogs:
    """The run in `run_dir` (read by `logs.run_folder.read_run`) as metrics need it.

    probes.jsonl must exist; a missing interactions/updates log reads as empty (a frozen arm
    never updates), a missing drift log as "not measured" (runs made before it existed). Bad
    manifests and log lines, and logs that break the run-folder invariants
    (`logs.invariants`), fail with one line naming file and field.
    """
    folder = read_run(run_dir)
    folder.require("probes", "metrics need the probe log of the run")
    folder.check_invariants()
    manifest = folder.manifest
    return RunLogs(
        schedule=list(manifest.persona.schedule),
        episode_length=manifest.interactions,
        learner=manifest.learner,
        seed=manifest.seed,
        probes=folder.probes,
        interactions=folder.interactions,
        updates=folder.updates,
        opposites=dict(manifest.persona.opposites),
        drift=folder.drift,
        manifest=manifest.to_json(),
        run_dir=folder.path,
    )


__all__ = [
    "AdaptationResult", "Curve", "ForgettingResult", "PhaseWindow", "RunCost", "RunLogs",
    "UnlearningResult", "adaptation_in_phase", "adherence_curves", "baselines_from_runs",
    "bootstrap_ci", "detect_scenario", "forgetting_metrics", "general_drift", "load_run_logs",
    "normalised_gain", "phase_windows", "run_cost", "summarise_run", "sustained_steps",
    "unlearning_in_phase", "unlearning_score",
]
