"""`simbench run`: one persona x learner x seed episode with a live progress display.

Flags map onto `RunConfig` fields; `--config FILE` supplies defaults that flags override.
Ctrl-C finishes the current batch, writes a checkpoint and exits; `--resume` continues.
"""

from __future__ import annotations

from typing import Any, Optional

import typer

from simbench.commands import options as opts
from simbench.errors import EXIT_ENDPOINT, EXIT_INTERRUPTED
from simbench.run_defaults import default_of


@opts.with_run_settings
def run_command(
    persona: Optional[str] = typer.Option(None, help=f"Persona YAML file or shipped persona id (default: {default_of('persona')})."),
    learner: Optional[str] = typer.Option(None, help=f"Learning arm (default: {default_of('learner')}); see `simbench list`."),
    feedback: Optional[str] = typer.Option(None, help="What the learner learns from: user | unrelated (its "
                                           "control arm, the same as `--learner LEARNER+unrelated`) (default: user)."),
    seed: Optional[int] = typer.Option(None, help=f"Run seed (default: {default_of('seed')})."),
    out: Optional[str] = typer.Option(None, help="Run folder (default: runs/<persona>--<learner>--s<seed>)."),
    resume: bool = typer.Option(False, "--resume", help="Continue the run in --out from its last checkpoint."),
    quiet: bool = typer.Option(False, "--quiet", help="No progress display."),
    settings: dict[str, Any] = None,  # type: ignore[assignment]  # the shared flags, merged
) -> None:
    """Run one episode: the persona talks to the policy, which learns as it goes."""
    from simbench import api
    from simbench.commands.console import quiet_libraries
    from simbench.commands.display import RunDisplay

    display = RunDisplay(enabled=not quiet)
    with display, quiet_libraries(quiet):
        result = api.run(settings, out=out, resume=resume, on_event=display.on_event)
    display.finish(result)
    if result.status != "complete":
        raise typer.Exit(EXIT_INTERRUPTED if result.status == "interrupted" else EXIT_ENDPOINT)


def register(app: typer.Typer) -> None:
    app.command("run")(run_command)
