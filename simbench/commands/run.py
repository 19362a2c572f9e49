"""`simbench run`: one persona x learner x seed episode with a live progress display.

Flags map onto `RunConfig` fields; `--config FILE` supplies defaults that flags override.
Ctrl-C finishes the current batch, writes a checkpoint and exits; `--resume` continues.
"""

from __future__ import annotations

import time
from typing import Any, Optional

import typer

from simbench.commands import options as opts
from simbench.run_defaults import default_of


def run_command(
    persona: Optional[str] = typer.Option(None, help=f"Persona YAML file or shipped persona id (default: {default_of('persona')})."),
    learner: Optional[str] = typer.Option(None, help=f"Learning arm (default: {default_of('learner')}); see `simbench list`."),
    model: opts.Model = None,
    user: opts.User = None,
    backend: opts.Backend = None,
    device: opts.Device = None,
    interactions: opts.Interactions = None,
    turns: opts.Turns = None,
    batch_size: opts.BatchSize = None,
    probe_every: opts.ProbeEvery = None,
    probe_prompts: opts.ProbePrompts = None,
    general_questions: opts.GeneralQuestions = None,
    checkpoint_every: Optional[int] = typer.Option(None, help="Interactions between checkpoints (default: --probe-every)."),
    max_new_tokens: opts.MaxNewTokens = None,
    seed: Optional[int] = typer.Option(None, help=f"Run seed (default: {default_of('seed')})."),
    learner_option: Optional[list[str]] = typer.Option(None, help="Learner option KEY=VALUE (repeatable)."),
    user_option: opts.UserOptions = None,
    out: Optional[str] = typer.Option(None, help="Run folder (default: runs/<persona>--<learner>--s<seed>)."),
    resume: bool = typer.Option(False, "--resume", help="Continue the run in --out from its last checkpoint."),
    config: opts.ConfigFile = None,
    quiet: bool = typer.Option(False, "--quiet", help="No progress display."),
) -> None:
    """Run one episode: the persona talks to the policy, which learns as it goes."""
    from simbench.config import build_config
    from simbench.runner.preflight import out_path
    from simbench.runner.run import execute

    flags = {
        "persona": persona, "learner": learner, "model": model, "user": user,
        "backend": backend, "device": device, "interactions": interactions, "turns": turns,
        "batch_size": batch_size, "probe_every": probe_every, "probe_prompts": probe_prompts,
        "general_questions": general_questions, "checkpoint_every": checkpoint_every,
        "max_new_tokens": max_new_tokens, "seed": seed,
    }
    run_config = build_config(opts.settings_from(config, flags, learner_option, user_option))
    display = ProgressDisplay(enabled=not quiet)
    with display:
        result = execute(run_config, out=out_path(out), resume=resume, on_event=display.on_event)
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
