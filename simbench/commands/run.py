"""`simbench run`: one persona x learner x seed episode with a live progress display.

Flags map onto `RunConfig` fields; `--config FILE` supplies defaults that flags override.
Ctrl-C finishes the current batch, writes a checkpoint and exits; `--resume` continues.
"""

from __future__ import annotations

from typing import Optional

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
    checkpoint_every: opts.CheckpointEvery = None,
    max_new_tokens: opts.MaxNewTokens = None,
    seed: Optional[int] = typer.Option(None, help=f"Run seed (default: {default_of('seed')})."),
    learner_option: Optional[list[str]] = typer.Option(None, help="Learner option KEY=VALUE (repeatable)."),
    user_option: opts.UserOptions = None,
    judge: opts.Judge = None,
    judge_option: opts.JudgeOptions = None,
    out: Optional[str] = typer.Option(None, help="Run folder (default: runs/<persona>--<learner>--s<seed>)."),
    resume: bool = typer.Option(False, "--resume", help="Continue the run in --out from its last checkpoint."),
    config: opts.ConfigFile = None,
    quiet: bool = typer.Option(False, "--quiet", help="No progress display."),
) -> None:
    """Run one episode: the persona talks to the policy, which learns as it goes."""
    from simbench import api
    from simbench.commands.display import RunDisplay

    flags = opts.run_flags(locals())
    settings = opts.settings_from(config, flags, learner_option, user_option, judge_option)
    display = RunDisplay(enabled=not quiet)
    with display:
        result = api.run(settings, out=out, resume=resume, on_event=display.on_event)
    display.finish(result)
    if result.status != "complete":
        raise typer.Exit(130 if result.status == "interrupted" else 3)


def register(app: typer.Typer) -> None:
    app.command("run")(run_command)
