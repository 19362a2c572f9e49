"""The public Python API: what every `simbench` command does, callable without the CLI.

```python
import simbench

result = simbench.run(persona="concise", learner="sdpo-token", interactions=16, out="runs/a")
simbench.report(result.run_dir)
grid = simbench.sweep(["concise"], ["frozen", "sdpo-token"], [0, 1], out="results/x")
simbench.leaderboard("results/x")
folder = simbench.read_run("runs/a")          # typed manifest + records
```

Every CLI command is the function of the same name here (`train-preset` is `train_preset`,
`personas show` is `simbench.personas.show`; `list` is `list_names`, so that
`from simbench import *` leaves the builtin alone). The CLI (`simbench/commands/`) only parses
flags, passes a display object or callback for progress and prints; every file (manifests
included) is written here or below. Bad input raises `InputError` before anything is written.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

from simbench import personas
from simbench.catalogue import catalogue
from simbench.config import RunConfig, build_config, load_config_file
from simbench.data import CONVERTERS, Converted, convert
from simbench.distillation import distill_conversations
from simbench.errors import InputError
from simbench.judge import build_judge
from simbench.logs.run_folder import RunFolder, read_run
from simbench.logs.schema import Manifest
from simbench.plugins import load_plugins
from simbench.preset.train import RecipeSettings
from simbench.preset.train import train_preset as train_adapter
from simbench.reporting.leaderboard import write_leaderboard
from simbench.reporting.pages import write_run_report
from simbench.reporting.power import PowerCell, power_cells
from simbench.run_defaults import default_of
from simbench.runner.preflight import check_model_available, check_out_dir, out_path
from simbench.runner.resume import recorded_plugins
from simbench.runner.run import RunResult, execute
from simbench.runner.sweep import SweepResult, run_sweep
from simbench.schemas import json_schema
from simbench.signal_analysis import SignalAnalysis, analyse_signal
from simbench.teaching.measure import TeachabilitySettings
from simbench.teaching.run import all_preferences
from simbench.teaching.run import teachability as measure_teachability

__all__ = [
    "RunConfig", "RunFolder", "RunResult", "SignalAnalysis", "SweepResult", "convert_data", "distill", "leaderboard",
    "list_names", "manifest_schema", "personas", "power", "read_run", "report", "run", "run_config",
    "schema", "signal", "sweep", "teachability", "train_preset",
]

EventHandler = Callable[[Any, dict[str, Any]], None]


def run_config(config: RunConfig | Mapping[str, Any] | str | Path | None = None, **settings: Any) -> RunConfig:
    """A validated `RunConfig` from a config, a mapping or a YAML/JSON file, with `settings`
    (RunConfig fields) overriding it."""
    if isinstance(config, RunConfig):
        values: dict[str, Any] = config.model_dump()
    elif isinstance(config, (str, Path)):
        values = load_config_file(Path(config))
    else:
        values = dict(config or {})
    return build_config({**values, **settings})


def run(
    config: RunConfig | Mapping[str, Any] | str | Path | None = None,
    *,
    out: str | Path | None = None,
    resume: bool = False,
    on_event: EventHandler | None = None,
    **settings: Any,
) -> RunResult:
    """Run (or `resume`) one episode into `out` (default runs/<persona>--<learner>--s<seed>).

    `settings` are RunConfig fields (persona, learner, interactions, ...); `on_event(event,
    context)` hears every interaction, update, probe and batch end (progress displays)."""
    if resume and out is not None:
        load_plugins(recorded_plugins(Path(out)), where="--resume")
    return execute(run_config(config, **settings), out=out_path(out), resume=resume, on_event=on_event)


def sweep(
    personas: Sequence[str],
    learners: Sequence[str],
    seeds: Sequence[int],
    out: str | Path,
    settings: Mapping[str, Any] | None = None,
    *,
    command: str = "",
    display: Any = None,
    executor: Any = None,
) -> SweepResult:
    """Every persona x learner x seed into `out/<persona>--<learner>--s<seed>`; complete runs
    are skipped, unfinished ones resumed. `settings` apply to every run; the grid chooses
    persona, learner and seed. `display` (a `SweepDisplay`, e.g. the CLI's
    `simbench.commands.display.SweepProgress`) hears progress; by default nothing is drawn."""
    settings = dict(settings or {})
    for grid_key in ("persona", "learner", "seed"):
        if grid_key in settings:
            raise InputError("settings", f"sets '{grid_key}'", "the sweep's grid chooses it")
    return run_sweep(personas, learners, seeds, out, settings, command=command, display=display,
                     executor=executor)


def report(run_dir: str | Path, out: str | Path | None = None, bootstrap: int = 1000,
           judge: str | None = None, judge_options: dict[str, Any] | None = None) -> tuple[Path, Path]:
    """Write report.md and a self-contained report.html for one run; returns their paths.
    `judge` adds the judge's calibration against the checkers and scores the rubric wishes the
    run left unscored from its logged answers (in the report only; the run folder is unchanged)."""
    built = build_judge(judge, judge_options or {}) if judge is not None else None
    return write_run_report(Path(run_dir), Path(out) if out is not None else None, bootstrap=bootstrap, judge=built)


def leaderboard(results_dir: str | Path, out: str | Path | None = None, bootstrap: int = 2000,
                judge: str | None = None, judge_options: dict[str, Any] | None = None) -> list[Path]:
    """Write leaderboard.{md,html,json} for a folder of runs; returns their paths. `judge`
    (e.g. "openai" with judge_options base_url, model) adds the win rate against frozen and
    scores the rubric wishes the runs left unscored (in the outputs only, never the run folders)."""
    built = build_judge(judge, judge_options or {}) if judge is not None else None
    return list(write_leaderboard(Path(results_dir), Path(out) if out is not None else None,
                                  bootstrap=bootstrap, judge=built))


def power(results_dir: str | Path, target_mdd: float = 0.10, probes: Sequence[int] = ()) -> list[PowerCell]:
    """Per specificity cell of a folder of runs: its variance components, the minimum detectable
    difference it achieves and the users `target_mdd` needs at each of `probes` prompts per user
    (default: the folder's own), with one shared prompt set and with per-user prompt draws.
    Returns `simbench.reporting.power.PowerCell`s; reads the folder, writes nothing."""
    return power_cells(Path(results_dir), target_mdd, probes)


def manifest_schema() -> dict[str, Any]:
    """The JSON Schema of a run folder's manifest.json."""
    return Manifest.model_json_schema()


def convert_data(name: str, src: str, out: str | Path, *, split: str = "train", limit: int | None = None) -> Converted:
    """Convert a data set of the papers into a simbench input: "helpsteer2" and "tldr" into a
    prompt pool, "wildchat" and "wildfeedback" into `distill` conversations. `src` is a hub id
    or a local json/jsonl/parquet file or folder (read through `datasets`, the `data` extra).
    On bad input nothing is written."""
    if name not in CONVERTERS:
        raise InputError("data set", f"unknown data set {name!r}", f"choose one of {', '.join(CONVERTERS)}")
    return convert(name, src, out, split=split, limit=limit)


def schema(kind: str) -> dict[str, Any]:
    """The JSON Schema of `kind` (`simbench.schemas.KINDS`): a run-folder file or log line, the
    run settings, a run summary or a leaderboard.json."""
    return json_schema(kind)


def list_names(kind: str | None = None) -> dict[str, list[tuple[str, str]]]:
    """(name, one-line description) of what each run flag accepts, per kind (learners, users,
    backends, personas, models; all of them when `kind` is None)."""
    return catalogue(kind)


def signal(
    cases: str = "builtin",
    *,
    out: str | Path,
    model: str = default_of("model"),
    limit: int | None = None,
    device: str = default_of("device"),
    on_case: Callable[[int, int, Any], None] | None = None,
) -> SignalAnalysis:
    """Score signal cases (a JSONL file, or "builtin") with `model`: per-token hindsight
    advantages under no, an unrelated and a relevant follow-up; writes signal.json,
    summary.json, signal.html and PNG heatmaps into `out`. `on_case(index, total, case)`
    hears each case as it is done."""
    return analyse_signal(cases, model, out_path(out), limit=limit, device=device, on_case=on_case)


def teachability(
    model: str = default_of("model"),
    *,
    out: str | Path,
    preferences: Sequence[str] | None = None,
    max_new_tokens: int = 64,
    probes: int = 16,
    micro_steps: int = 2,
    batch_size: int = 4,
    bootstrap: int = 2000,
    seed: int = 0,
    learner_options: Mapping[str, Any] | None = None,
    device: str = default_of("device"),
    command: str = "",
    on_unit: Callable[[str], None] | None = None,
) -> tuple[list[Any], Any]:
    """Per built-in preference (default: all), whether `model` can teach it to itself; writes
    teachability.{md,json,png} into `out` and returns (rows, paths) (simbench/teaching/)."""
    folder = out_path(out)
    check_out_dir(folder)
    settings = TeachabilitySettings(
        preferences=tuple(preferences) if preferences else tuple(all_preferences()),
        max_new_tokens=max_new_tokens, probes=probes, micro_steps=micro_steps, batch_size=batch_size,
        seed=seed, bootstrap=bootstrap, learner_options=tuple((learner_options or {}).items()),
    )
    return measure_teachability(model, settings, folder, device=device, command=command, on_unit=on_unit)


def train_preset(out: str | Path, *, seed: int = 0, epochs: int = 1, targets: str = "rewrite",
                 progress: Callable[[str, int, int], None] | None = None) -> dict[str, Any]:
    """Train the feedback-reading adapter of `smollm2-135m-fr` into `out` (targets: rewrite, the
    checkers' rewrites; self, the model's own passing in-context answers); returns its recipe
    record. `progress(stage, done, total)` hears each stage."""
    folder = out_path(out)
    check_out_dir(folder)
    if targets not in ("rewrite", "self"):
        raise InputError("--targets", f"unknown value {targets!r}", "use rewrite or self")
    settings = RecipeSettings(seed=seed, epochs=epochs, targets=targets)
    check_model_available(settings.model)
    return train_adapter(settings, folder, progress=progress)


def distill(
    conversations: str | Path,
    out: str | Path,
    *,
    model: str = "smollm2-135m",
    device: str = "cpu",
    k: int = 4,
    batch_size: int = 4,
    epochs: int = 1,
    lr: float = 5e-4,
    loss: str = "token",
    on_error: str = "skip",
    max_samples: int | None = None,
    save_every: int = 0,
    seed: int = 0,
    on_step: Callable[[dict[str, Any], int], None] | None = None,
    on_problem: Callable[[str], None] | None = None,
) -> Any:
    """Offline SDPO from logged conversations (JSONL, one message list per line) into a LoRA
    adapter under `out`, with training_log.jsonl and the manifest distill.json.

    Everything is checked before the model loads; `on_problem(line)` hears each skipped
    malformed line (`on_error="skip"`). Returns `simbench.distillation.Distilled`."""
    return distill_conversations(
        Path(conversations), out, model=model, device=device, k=k, batch_size=batch_size,
        epochs=epochs, lr=lr, loss=loss, on_error=on_error, max_samples=max_samples,
        save_every=save_every, seed=seed, on_step=on_step, on_problem=on_problem,
    )
