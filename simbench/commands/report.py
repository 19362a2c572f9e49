"""`simbench report`, `simbench leaderboard` and `simbench sweep`: results from run folders.

Reports and leaderboards read logs only; `sweep` runs a grid of personas x learners x seeds
into one results folder that `leaderboard` then summarises.
"""

from __future__ import annotations

import shlex
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator, List, Optional, Sequence

import click
import typer
from typer.core import TyperCommand

from simbench.commands import options as opts
from simbench.errors import EXIT_ENDPOINT, EXIT_INTERRUPTED


def report_command(
    run_dir: Path = typer.Argument(..., help="A run folder written by `simbench run`."),
    out: Optional[str] = typer.Option(None, help="Folder for report.md and report.html (default: RUN_DIR)."),
    bootstrap: int = typer.Option(1000, **opts.BOOTSTRAP_RANGE, help="Bootstrap resamples for the metrics' CIs."),
    judge: opts.Judge = None,
    judge_option: opts.JudgeOptions = None,
) -> None:
    """Write report.md and a self-contained report.html for one run (with --judge: the judge's
    calibration against the checkers, and judge-scored wishes the run left unscored scored now)."""
    from simbench import api

    judge_options = opts.judge_settings(judge, judge_option)
    folder = _writable_out(out, run_dir, "RUN_DIR")
    with _writing(folder):
        md_path, html_path = api.report(run_dir, folder, bootstrap=bootstrap, judge=judge, judge_options=judge_options)
    typer.echo(f"wrote {md_path} and {html_path}")


def leaderboard_command(
    results_dir: Path = typer.Argument(..., help="A folder of run folders (the --out of `simbench sweep`)."),
    out: Optional[str] = typer.Option(None, help="Folder for leaderboard.* (default: RESULTS_DIR)."),
    bootstrap: int = typer.Option(
        2000, **opts.BOOTSTRAP_RANGE,
        help="Probe-prompt bootstrap resamples for cells with one seed; cells with several seeds "
             "use a t-interval over seeds (the simulated users) and take no resamples."),
    judge: opts.Judge = None,
    judge_option: opts.JudgeOptions = None,
) -> None:
    """Compare learners: mean and 95% CI of each metric per scenario type."""
    from simbench import api

    folder = _writable_out(out, results_dir, "RESULTS_DIR")
    with _writing(folder):
        paths = api.leaderboard(results_dir, folder, bootstrap=bootstrap, judge=judge,
                                judge_options=opts.judge_settings(judge, judge_option))
    typer.echo("wrote " + ", ".join(str(p) for p in paths))


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
    from simbench.commands.display import SweepProgress
    from simbench.runner.executors import make_executor
    from simbench.runner.preflight import out_path

    for grid_key in ("persona", "learner", "seed"):  # only a --config file can set these
        if grid_key in settings:
            raise typer.BadParameter(f"the --config file sets '{grid_key}'; the sweep's grid flags choose it")
    command = shlex.join(["simbench", *sys.argv[1:]])
    runner = make_executor(executor, address=address, cpus_per_run=cpus_per_run, gpus_per_run=gpus_per_run,
                           max_members=max_members)
    result = api.sweep(personas, learners, seeds, out_path(out), settings, command=command,
                       display=SweepProgress(enabled=not quiet), executor=runner)
    for outcome in result.outcomes:
        note = f": {outcome.message}" if outcome.message else ""
        typer.echo(f"{outcome.status:>15}  {outcome.cell.name}{note}")
    typer.echo(f"results in {result.out} (sweep.json lists every run)")
    if not result.ok:
        interrupted = any(o.status == "interrupted" for o in result.outcomes)
        raise typer.Exit(EXIT_INTERRUPTED if interrupted else EXIT_ENDPOINT)


def _writable_out(out: str | None, default: Path, name: str) -> Path:
    """The output folder (`--out`, else the input folder `default`, the argument `name`),
    checked before anything is computed; a missing input folder is the reader's to report."""
    from simbench.paths import check_path_length
    from simbench.runner.preflight import check_out_dir, out_path

    if out is None:
        check_path_length(default, name)
        if default.is_dir():
            check_out_dir(default, name)
        return default
    folder = out_path(out)
    check_out_dir(folder)
    return folder


@contextmanager
def _writing(folder: Path) -> Iterator[None]:
    """A write that fails anyway (disk full, a read-only mount the checks could not see) is
    one line naming the folder, not a traceback."""
    from simbench.errors import InputError

    try:
        yield
    except OSError as exc:
        raise InputError("--out", f"cannot write to {folder} ({exc.strerror or exc})") from None


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
    app.command("report")(report_command)
    app.command("leaderboard")(leaderboard_command)
    app.command("sweep", cls=GridCommand)(sweep_command)
