"""`simbench run`: one persona x learner x seed episode with a live progress display.

Flags map onto `RunConfig` fields; `--config FILE` supplies defaults that flags override.
Ctrl-C finishes the current batch, writes a checkpoint and exits; `--resume` continues.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any, Optional

import typer

from simbench.errors import InputError



def parse_options(pairs: list[str] | None, flag: str) -> dict[str, Any]:
    """KEY=VALUE pairs; values are parsed as JSON where possible (numbers, booleans)."""
    import json

    options: dict[str, Any] = {}
    for pair in pairs or []:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise InputError(flag, f"expected KEY=VALUE, got {pair!r}")
        try:
            options[key] = json.loads(value)
        except json.JSONDecodeError:
            options[key] = value
    return options


def run_command(
    persona: Optional[str] = typer.Option(None, help="Persona YAML file or shipped persona id (default: concise)."),
    learner: Optional[str] = typer.Option(None, help="Learning arm (default: sdpo-token); see `simbench list`."),
    model: Optional[str] = typer.Option(None, help="Policy model (default: smollm2-135m), a folder or HF id."),
    user: Optional[str] = typer.Option(None, help="User simulator: rules | openai | local (default: rules)."),
    backend: Optional[str] = typer.Option(None, help="Generation backend: hf | vllm (default: hf)."),
    device: Optional[str] = typer.Option(None, help="Torch device (default: cpu)."),
    interactions: Optional[int] = typer.Option(None, help="Episode length (default: the persona's)."),
    turns: Optional[int] = typer.Option(None, help="User follow-ups per interaction (default: 1)."),
    batch_size: Optional[int] = typer.Option(None, help="Interactions per update (default: 4)."),
    probe_every: Optional[int] = typer.Option(None, help="Interactions between probes (default: 8)."),
    probe_prompts: Optional[int] = typer.Option(None, help="Probe prompts per probe (default: 16)."),
    general_questions: Optional[int] = typer.Option(None, help="General-capability questions per probe (default: 8)."),
    checkpoint_every: Optional[int] = typer.Option(None, help="Interactions between checkpoints (default: --probe-every)."),
    max_new_tokens: Optional[int] = typer.Option(None, help="Response length cap (default: 96)."),
    seed: Optional[int] = typer.Option(None, help="Run seed (default: 0)."),
    learner_option: Optional[list[str]] = typer.Option(None, help="Learner option KEY=VALUE (repeatable)."),
    user_option: Optional[list[str]] = typer.Option(None, help="User option KEY=VALUE (repeatable)."),
    out: Optional[Path] = typer.Option(None, help="Run folder (default: runs/<persona>--<learner>--s<seed>)."),
    resume: bool = typer.Option(False, "--resume", help="Continue the run in --out from its last checkpoint."),
    config: Optional[Path] = typer.Option(None, help="YAML/JSON file of run settings (flags override it)."),
    quiet: bool = typer.Option(False, "--quiet", help="No progress display."),
) -> None:
    """Run one episode: the persona talks to the policy, which learns as it goes."""
    from simbench.config import build_config, load_config_file
    from simbench.runner.run import execute

    values: dict[str, Any] = load_config_file(config) if config else {}
    flags = {
        "persona": persona, "learner": learner, "model": model, "user": user,
        "backend": backend, "device": device, "interactions": interactions, "turns": turns,
        "batch_size": batch_size, "probe_every": probe_every, "probe_prompts": probe_prompts,
        "general_questions": general_questions, "checkpoint_every": checkpoint_every,
        "max_new_tokens": max_new_tokens, "seed": seed,
    }
    values.update({k: v for k, v in flags.items() if v is not None})
    if learner_option:
        values["learner_options"] = {**values.get("learner_options", {}),
                                     **parse_options(learner_option, "--learner-option")}
    if user_option:
        values["user_options"] = {**values.get("user_options", {}),
                                  **parse_options(user_option, "--user-option")}
    run_config = build_config(values)
    display = ProgressDisplay(enabled=not quiet)
    with display:
        result = execute(run_config, out=out, resume=resume, on_event=display.on_event)
    display.finish(result)
    if result.status != "complete":
        raise typer.Exit(130 if result.status == "interrupted" else 3)


class ProgressDisplay:
    """Rich progress: interaction, active preferences, latest adherence, s/interaction."""

    def __init__(self, enabled: bool) -> None:
        from rich.console import Console

        self.console = Console(stderr=True)
        self.enabled = enabled
        self.progress = None
        self.task = None
        self.adherence: dict[str, float] = {}
        self.active: list[str] = []
        self.started = time.perf_counter()
        self.done = 0

    def __enter__(self) -> "ProgressDisplay":
        return self

    def __exit__(self, *exc: Any) -> None:
        if self.progress is not None:
            self.progress.stop()

    def _start(self, total: int, first: int) -> None:
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

        self.progress = Progress(
            TextColumn("[bold]interaction"), MofNCompleteColumn(), BarColumn(),
            TimeRemainingColumn(), TextColumn("{task.fields[info]}"),
            console=self.console, disable=not self.enabled, transient=False,
        )
        self.progress.start()
        self.task = self.progress.add_task("run", total=total, completed=first, info="loading")
        self.first = first

    def on_event(self, event: Any, context: dict[str, Any]) -> None:
        from simbench.runner.episode import BatchDone, InteractionDone, ProbeDone

        if self.progress is None:
            self._start(context["interactions"], context["t"])
        if isinstance(event, InteractionDone) and event.record.turn == 0:
            self.active = event.record.active
        elif isinstance(event, ProbeDone) and event.records:
            names = event.records[0].checks
            self.adherence = {
                pid: sum(r.checks[pid].passed for r in event.records) / len(event.records)
                for pid in names
            }
        elif isinstance(event, BatchDone):
            self.done = event.t
            self.progress.update(self.task, completed=event.t)
        per = (time.perf_counter() - self.started) / max(self.done - self.first, 1)
        scores = " ".join(f"{pid}={s:.2f}" for pid, s in self.adherence.items())
        info = f"active: {','.join(self.active) or '-'} | adherence: {scores or '-'} | {per:.1f} s/int"
        self.progress.update(self.task, info=info)

    def finish(self, result: Any) -> None:
        from simbench.report.summary_table import adherence_table

        self.console.print(adherence_table(result.run_dir))
        style = "green" if result.status == "complete" else "yellow"
        note = f": {result.message}" if result.message else ""
        self.console.print(f"[{style}]{result.status}[/] {result.run_dir} (t={result.t}){note}")


def register(app: typer.Typer) -> None:
    app.command("run")(run_command)
