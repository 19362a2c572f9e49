"""Progress displays of the CLI (rich): the library reports events, these draw them.

`RunDisplay` follows one run (interaction, active preferences, latest adherence, speed) and
prints its adherence table at the end. (The sweep's bar, `runner.sweep.SweepProgress`, stays
beside the executors that drive it.)
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeRemainingColumn,
)

from simbench.logs.schema import RunStatus
from simbench.report.summary_table import adherence_columns
from simbench.runner.episode import BatchDone, InteractionDone, ProbeDone


def adherence_table(run_dir: Path) -> Table:
    """A rich Table of `adherence_columns` (or a note when the run has no probes yet)."""
    table = Table(title=f"adherence per preference: {run_dir}")
    try:
        labels, values = adherence_columns(run_dir)
    except Exception as exc:  # the table is a courtesy: a partial run must still exit cleanly
        table.add_column("note")
        table.add_row(f"no adherence table: {exc}")
        return table
    table.add_column("preference")
    for label in labels:
        table.add_column(label, justify="right")
    for pid, row in values.items():
        table.add_row(pid, *("-" if v != v else f"{v:.2f}" for v in row))
    return table


class RunDisplay:
    """Rich progress: interaction, active preferences, latest adherence, s/interaction."""

    def __init__(self, enabled: bool) -> None:
        self.console = Console(stderr=True)
        self.enabled = enabled
        self.progress: Progress | None = None
        self.task: Any = None
        self.adherence: dict[str, float] = {}
        self.active: list[str] = []
        self.started = time.perf_counter()
        self.done = 0
        self.first = 0

    def __enter__(self) -> RunDisplay:
        return self

    def __exit__(self, *exc: Any) -> None:
        if self.progress is not None:
            self.progress.stop()

    def _start(self, total: int, first: int) -> Progress:
        self.progress = Progress(
            TextColumn("[bold]interaction"), MofNCompleteColumn(), BarColumn(),
            TimeRemainingColumn(), TextColumn("{task.fields[info]}"),
            console=self.console, disable=not self.enabled, transient=False,
        )
        self.progress.start()
        self.task = self.progress.add_task("run", total=total, completed=first, info="loading")
        self.first = first
        return self.progress

    def on_event(self, event: Any, context: dict[str, Any]) -> None:
        progress = self.progress or self._start(context["interactions"], context["t"])
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
            progress.update(self.task, completed=event.t)
        per = (time.perf_counter() - self.started) / max(self.done - self.first, 1)
        scores = " ".join(f"{pid}={s:.2f}" for pid, s in self.adherence.items())
        info = f"active: {','.join(self.active) or '-'} | adherence: {scores or '-'} | {per:.1f} s/int"
        progress.update(self.task, info=info)

    def finish(self, result: Any) -> None:
        self.console.print(adherence_table(result.run_dir))
        style = "green" if result.status == "complete" else "yellow"
        note = f": {result.message}" if result.message else ""
        self.console.print(f"[{style}]{RunStatus(result.status).value}[/] {result.run_dir} (t={result.t}){note}")
