"""`simbench sweep`: a grid of personas x learners x seeds run into one results folder.

Every cell is validated (names, persona files, prompt pools, existing run folders) before
anything runs. Each cell is one `execute` call into RESULTS_DIR/<persona>--<learner>--s<seed>/:
complete runs are skipped, unfinished ones resumed, so rerunning the command continues the
sweep. An executor (`runner/executors`: local, Ray or batched) decides where the cells run;
sweep.json records the grid, the command, the executor and each run's status and node as it goes.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Sequence

from simbench.config import build_config
from simbench.errors import InputError
from simbench.learners import LEARNERS
from simbench.logs.io import write_json
from simbench.logs.run_folder import MANIFEST_FILE, read_run
from simbench.paths import resolve_persona
from simbench.registry import suggest
from simbench.runner.build import resolve_inputs
from simbench.runner.executors import make_executor
from simbench.runner.executors.base import NO_DISPLAY, SweepCell
from simbench.runner.lock import FolderLock
from simbench.runner.preflight import check_out_dir, folder_is_empty, preflight
from simbench.runner.resume import config_diff

if TYPE_CHECKING:
    from simbench.runner.executors import Executor
    from simbench.runner.executors.base import SweepDisplay

SWEEP_FILE = "sweep.json"


@dataclass
class SweepOutcome:
    """How one cell ended in this invocation."""

    cell: SweepCell
    status: str  # complete | skipped | interrupted | user_error | numerical_error | failed
    message: str = ""
    seconds: float = 0.0


@dataclass
class SweepResult:
    out: Path
    outcomes: list[SweepOutcome] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(o.status in ("complete", "skipped") for o in self.outcomes)


def _unique(values: Sequence[Any], flag: str) -> list[Any]:
    if not values:
        raise InputError(flag, "needs at least one value")
    seen = []
    for value in values:
        if value not in seen:
            seen.append(value)
    return seen


def plan_sweep(
    personas: Sequence[str], learners: Sequence[str], seeds: Sequence[int],
    out: Path, settings: dict[str, Any] | None = None,
) -> list[SweepCell]:
    """Validate the whole grid and say what each cell's folder holds; writes nothing.

    Fails (InputError) on an unknown learner or persona, a setting a run would reject, two
    persona files with the same id, or an existing run whose config differs from the sweep's.
    """
    check_out_dir(out)
    personas, learners = _unique(personas, "--personas"), _unique(learners, "--learners")
    seeds = _unique(seeds, "--seeds")
    for learner in learners:
        if learner not in LEARNERS:
            raise InputError("--learners", f"unknown learner {learner!r}", suggest(learner, LEARNERS.names()))
    for persona in personas:
        resolve_persona(persona, flag="--personas")
    settings = dict(settings or {})
    cells, owners = [], {}
    for persona in personas:
        for seed in seeds:
            for learner in learners:
                config = build_config({**settings, "persona": persona, "learner": learner, "seed": seed})
                inputs = resolve_inputs(config)
                if seed == seeds[0]:  # the checks depend on persona and learner, not the seed
                    preflight(inputs)
                pid = inputs.persona.id
                if owners.setdefault(pid, persona) != persona:
                    raise InputError(
                        "--personas", f"{owners[pid]!r} and {persona!r} both have persona id {pid!r}",
                        "their runs would share folders; give one a different id",
                    )
                run_dir = out / f"{pid}--{learner}--s{seed}"
                status, stored = _stored_run(run_dir)
                if status is None:
                    if not folder_is_empty(run_dir):
                        raise InputError(str(run_dir), "holds files but no manifest.json",
                                         "move it away or choose another --out")
                    state = "new"
                else:
                    diff = config_diff(stored, config.for_resume_check())
                    if diff:
                        raise InputError(str(run_dir), f"was run with other settings: {'; '.join(diff)}",
                                         "rerun the sweep with the original flags or choose another --out")
                    state = "complete" if status == "complete" else "resume"
                cells.append(SweepCell(pid, learner, seed, config, run_dir, state))
    return cells


def run_sweep(
    personas: Sequence[str],
    learners: Sequence[str],
    seeds: Sequence[int],
    out: str | Path,
    settings: dict[str, Any] | None = None,
    command: str = "",
    parts_factory: Callable[[Any], Any] | None = None,
    display: SweepDisplay | None = None,
    executor: Executor | None = None,
) -> SweepResult:
    """Run every cell of the grid not yet complete; stops early only on Ctrl-C or bad input.

    A run that fails (user simulator, numerical, policy error) is recorded and the sweep goes
    on with the next; rerunning the same command resumes it. `executor` decides where cells
    run (default: one after another in this process; see `runner/executors`).
    """
    out = Path(out)
    FolderLock(out, what="results folder").ensure_free()  # "in use" beats any half-written cell
    cells = plan_sweep(personas, learners, seeds, out, settings)  # bad input: refused before any write
    executor = executor or make_executor("local")
    executor.open(cells)  # bad executor flags or an unreachable cluster: refused before any write too
    try:
        # One sweep per results folder (both would rewrite sweep.json); each cell's run folder
        # is locked again by `execute`, so a `simbench run` into a cell is refused too.
        with FolderLock(out, what="results folder") as lock:
            cells = plan_sweep(personas, learners, seeds, out, settings)  # as it is now, under the lock
            lock.keep_folder()
            return _run_cells(cells, personas, learners, seeds, out, settings, command, parts_factory,
                              display or NO_DISPLAY, executor)
    finally:
        executor.close()


def _run_cells(cells: list[SweepCell], personas: Sequence[str], learners: Sequence[str],
               seeds: Sequence[int], out: Path, settings: dict[str, Any] | None, command: str,
               parts_factory: Callable[[Any], Any] | None, bar: SweepDisplay, executor: Executor,
               ) -> SweepResult:
    result = SweepResult(out)
    record = {
        "command": command,
        "personas": list(dict.fromkeys(c.persona_id for c in cells)),
        "persona_refs": list(dict.fromkeys(personas)),
        "learners": list(dict.fromkeys(learners)),
        "seeds": list(dict.fromkeys(seeds)),
        "settings": dict(settings or {}),
        "executor": executor.describe(),
        "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "runs": {c.name: {"persona": c.persona_id, "learner": c.learner, "seed": c.seed,
                          "status": "complete" if c.state == "complete" else "pending"} for c in cells},
    }
    _save(out, record)
    by_name = {cell.name: cell for cell in cells}
    bar.begin(len(cells))
    try:
        for cell in cells:
            if cell.state == "complete":
                result.outcomes.append(SweepOutcome(cell, "skipped", "already complete"))
                bar.advance(cell.name, "skipped: already complete")
        todo = [cell for cell in cells if cell.state != "complete"]
        for report in executor.run(todo, parts_factory, bar):
            report.raise_input_error()  # a setting every remaining run would trip on: stop and say so
            outcome = SweepOutcome(by_name[report.name], report.status, report.message, report.seconds)
            result.outcomes.append(outcome)
            run = record["runs"][report.name]
            run.update(status=outcome.status, message=outcome.message, seconds=round(outcome.seconds, 2))
            if report.node:
                run["node"] = report.node
            if report.resumed_from is not None:
                run["resumed_from"] = report.resumed_from
            _save(out, record)
            in_process = executor.name in ("local", "batched")  # no host worth naming
            where = f", {report.node['host']}" if not in_process and "host" in report.node else ""
            bar.advance(report.name, f"{outcome.status} ({outcome.seconds:.0f} s{where})",
                        failed=outcome.status != "complete")
    finally:
        bar.finish()
    order = {cell.name: i for i, cell in enumerate(cells)}
    result.outcomes.sort(key=lambda o: order[o.cell.name])  # grid order, whatever order cells ended in
    return result


def _stored_run(run_dir: Path) -> tuple[str | None, dict[str, Any]]:
    """(status, config as stored) of the run in `run_dir`; (None, {}) when it has no manifest."""
    if not (run_dir / MANIFEST_FILE).is_file():
        return None, {}
    try:
        manifest = read_run(run_dir).manifest
    except InputError as exc:
        raise InputError(exc.where, exc.problem, "move the folder away") from None
    return manifest.status.value, manifest.config.for_resume_check()


def _save(out: Path, record: dict[str, Any]) -> None:
    record["updated"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    write_json(out / SWEEP_FILE, record)
