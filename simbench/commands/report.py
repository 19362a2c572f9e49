"""`simbench report` and `simbench leaderboard`: results from run folders (logs only).

Thin layer over `simbench.report` and `simbench.leaderboard`; `simbench sweep` (commands/sweep.py)
writes the results folders that `leaderboard` summarises.
"""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path
from typing import Iterator, Optional

import typer

from simbench.commands import options as opts


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


def register(app: typer.Typer) -> None:
    app.command("report")(report_command)
    app.command("leaderboard")(leaderboard_command)
