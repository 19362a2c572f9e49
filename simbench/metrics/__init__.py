"""Metrics computed from a run folder's logs alone (design.md §4), so runs can be re-scored.

This module holds `RunLogs` and its loader, the package's only file IO; the math lives in
curves / adaptation / unlearning / forgetting / cost / summary as pure functions.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from simbench.errors import InputError
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

MANIFEST = "manifest.json"
PROBES = "probes.jsonl"
INTERACTIONS = "interactions.jsonl"
UPDATES = "updates.jsonl"
DRIFT = "drift.jsonl"


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
    """Read manifest.json and the JSONL logs metrics use (probes, interactions, updates, drift).

    probes.jsonl must exist; a missing interactions/updates log reads as empty (a frozen arm
    never updates), a missing drift log as "not measured" (runs made before it existed). A
    torn last line (a crash mid-append) is skipped; any other unreadable line, and logs that
    break the run-folder invariants (`logs.invariants`), raise InputError naming file and line.
    """
    run_dir = Path(run_dir)
    manifest = _read_manifest(run_dir / MANIFEST)
    where = str(run_dir / MANIFEST)
    persona = _require(manifest, "persona", dict, where)
    raw_schedule = _require(persona, "schedule", list, where, "persona.")
    schedule = []
    for i, phase in enumerate(raw_schedule):
        try:
            schedule.append(PhaseInfo.model_validate(phase))
        except ValidationError as error:
            raise InputError(f"{where}: persona.schedule[{i}]", _first_error(error)) from None
    opposites = persona.get("opposites", {})
    if not isinstance(opposites, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in opposites.items()
    ):
        raise InputError(f"{where}: persona.opposites", f"must map preference id to id, got {opposites!r}")
    episode_length = _require(manifest, "interactions", int, where)
    if episode_length < 1:
        raise InputError(f"{where}: interactions", f"must be >= 1, got {episode_length}")
    probes_path = run_dir / PROBES
    if not probes_path.is_file():
        raise InputError(str(probes_path), "is missing", "metrics need the probe log of the run")
    from simbench.logs.invariants import check_run_invariants, refuse_if_violated
    from simbench.logs.safe_load import read_jsonl

    probes = _read_jsonl(probes_path, ProbeRecord)
    interactions = _read_jsonl(run_dir / INTERACTIONS, InteractionRecord)
    updates = _read_jsonl(run_dir / UPDATES, UpdateLogRecord)
    logs = {"probes": probes, "interactions": interactions, "updates": updates,
            **{name: read_jsonl(run_dir / f"{name}.jsonl") for name in ("general", "signals")}}
    refuse_if_violated(check_run_invariants(manifest, logs), run_dir)
    return RunLogs(
        schedule=schedule,
        episode_length=episode_length,
        learner=_require(manifest, "learner", str, where),
        seed=_require(manifest, "seed", int, where),
        probes=probes,
        interactions=interactions,
        updates=updates,
        opposites=dict(opposites),
        drift=_read_jsonl(run_dir / DRIFT, DriftRecord),
        manifest=manifest,
        run_dir=run_dir,
    )


def _read_manifest(path: Path) -> dict[str, Any]:
    from simbench.logs.safe_load import load_json

    if not path.is_file():
        raise InputError(str(path), "is missing", "pass a run folder written by `simbench run`")
    return load_json(path, kind=dict)


def _require(mapping: dict[str, Any], key: str, kind: type, where: str, prefix: str = "") -> Any:
    """mapping[key], which must be of type `kind` (bool is not accepted as int)."""
    if key not in mapping:
        raise InputError(where, f"missing key '{prefix}{key}'", "rewrite the manifest or rerun")
    value = mapping[key]
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise InputError(f"{where}: {prefix}{key}", f"must be {kind.__name__}, got {value!r}")
    return value


Record = TypeVar("Record", bound=BaseModel)


def _read_jsonl(path: Path, model: type[Record]) -> list[Record]:
    """Records of a JSONL file (empty when it does not exist); only an unterminated last
    line may be torn (`safe_load.iter_jsonl`), any other broken line is refused."""
    from simbench.logs.safe_load import iter_jsonl

    records = []
    for lineno, data in iter_jsonl(path):
        try:
            records.append(model.model_validate(data))
        except ValidationError as error:
            raise InputError(f"{path}:{lineno}", _first_error(error)) from None
    return records


def _first_error(error: ValidationError) -> str:
    first = error.errors()[0]
    location = ".".join(str(part) for part in first["loc"]) or "record"
    return f"{location}: {first['msg']} (got {first.get('input')!r})"


__all__ = [
    "AdaptationResult", "Curve", "ForgettingResult", "PhaseWindow", "RunCost", "RunLogs",
    "UnlearningResult", "adaptation_in_phase", "adherence_curves", "baselines_from_runs",
    "bootstrap_ci", "detect_scenario", "forgetting_metrics", "general_drift", "load_run_logs",
    "normalised_gain", "phase_windows", "run_cost", "summarise_run", "sustained_steps",
    "unlearning_in_phase", "unlearning_score",
]
