"""`simbench sweep`: a grid of personas x learners x seeds into one results folder, which
`simbench leaderboard` then summarises. Thin layer over `simbench.sweep`.
"""

from __future__ import annotations

import shlex
import sys
from typing import Any, List, Optional, Sequence

import click
import typer
from typer.core import TyperCommand

from simbench.commands import options as opts
from simbench.errors import EXIT_ENDPOINT, EXIT_INTERRUPTED


@opts.with_run_settings
def sweep_command(
    personas: List[str] = typer.Option(..., "--personas", help="Persona files or shipped ids."),
    learners: List[str] = typer.Option(..., "--learners", help="Learning arms (space-separated)."),
    seeds: List[int] = typer.Option([0], "--seeds", **opts.SEED_RANGE, help="Run seeds (space-separated)."),
    out: str = typer.Option(..., help="Results folder; one sub-folder per run."),
    quiet: bool = typer.Option(False, "--quiet", help="No progress bar."),
    executor: str = typer.Option("local", help="Where cells run: local (one after another here) | ray (a Ray cluster) | batched (populations sharing one model here)."),
    address: Optional[str] = typer.Option(None, help="Ray cluster to join: HEAD_IP:6379, or auto (default: start Ray on this machine)."),
    cpus_per_run: Optional[float] = typer.Option(None, help="CPUs Ray reserves per cell; also its torch threads (default: 1)."),
    gpus_per_run: Optional[float] = typer.Option(None, help="GPUs per cell, fractions share one (default: 1 with --device cuda, else 0)."),
    max_members: Optional[int] = typer.Option(None, help="Cells per population with --executor batched; the rest follow in later groups (default: all)."),
    settings: dict[str, Any] = None,  # type: ignore[assignment]  # the shared flags, merged
) -> None:
    """Run every persona x learner x seed; complete runs are skipped, unfinished ones resumed."""
    from simbench import api
    from simbench.commands.console import quiet_libraries
    from simbench.commands.display import SweepProgress
    from simbench.runner.executors import make_executor
    from simbench.runner.preflight import out_path

    for grid_key in ("persona", "learner", "seed"):  # only a --config file can set these
        if grid_key in settings:
            raise typer.BadParameter(f"the --config file sets '{grid_key}'; the sweep's grid flags choose it")
    command = shlex.join(["simbench", *sys.argv[1:]])
    runner = make_executor(executor, address=address, cpus_per_run=cpus_per_run, gpus_per_run=gpus_per_run,
                           max_members=max_members)
    with quiet_libraries(quiet):
        result = api.sweep(personas, learners, seeds, out_path(out), settings, command=command,
                           display=SweepProgress(enabled=not quiet), executor=runner)
    for outcome in result.outcomes:
        note = f": {outcome.message}" if outcome.message else ""
        typer.echo(f"{outcome.status:>15}  {outcome.cell.name}{note}")
    typer.echo(f"results in {result.out} (sweep.json lists every run)")
    if not result.ok:
        interrupted = any(o.status == "interrupted" for o in result.outcomes)
        raise typer.Exit(EXIT_INTERRUPTED if interrupted else EXIT_ENDPOINT)


GRID_FLAGS = ("--personas", "--learners", "--seeds")


def expand_grid_flags(args: list[str], flags: Sequence[str] = GRID_FLAGS) -> list[str]:
    """`--personas A B` -> `--personas A --personas B` (click options take one value each).

    Values are taken until the next argument that starts with "-"; the repeated form
    `--personas A --personas B` passes through unchanged.
    """
    out: list[str] = []
    current = None
    for arg in args:
        if arg in flags:
            current = arg
            continue
        if current is not None and not arg.startswith("-"):
            out += [current, arg]
            continue
        current = None
        out.append(arg)
    return out


class GridCommand(TyperCommand):
    """A command whose grid flags take space-separated lists of values."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        return super().parse_args(ctx, expand_grid_flags(args))


def register(app: typer.Typer) -> None:
    app.command("sweep", cls=GridCommand)(sweep_command)
