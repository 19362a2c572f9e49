"""Progress displays of the CLI (rich): the library reports events, these draw them.

`RunDisplay` follows one run (interaction, active preferences, latest adherence, speed) and
prints its adherence table at the end; `SweepProgress` is the sweep's `SweepDisplay` (fed by
either executor); `UnitProgress` counts teachability's measurement units. Without a terminal
(nohup, CI logs) a live bar draws nothing, so the last two write one line per finished unit.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from simbench.commands.console import make_console
from simbench.logs.schema import RunStatus
from simbench.reporting.summary_table import adherence_columns
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
        self.console = make_console(stderr=True)
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
            scored = {pid: [r.checks[pid].passed for r in event.records if r.checks[pid].passed is not None]
                      for pid in event.records[0].checks}
            self.adherence = {pid: sum(v) / len(v) for pid, v in scored.items() if v}
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


class _CountedBar:
    """A rich bar over `total` units, or one `[k/N] info` line per unit off a terminal."""

    def __init__(self, label: str, enabled: bool, *columns: Any) -> None:
        console = make_console(stderr=True)
        self.lines = enabled and not console.is_terminal
        self.progress = Progress(
            TextColumn(f"[bold]{label}"), MofNCompleteColumn(), BarColumn(), TimeElapsedColumn(), *columns,
            TextColumn("{task.fields[info]}"), console=console, disable=not enabled or self.lines,
        )
        self.task: Any = None

    def begin(self, total: int) -> None:
        self.task = self.progress.add_task("units", total=total, info="", counts="")
        self.progress.start()

    def finish(self) -> None:
        self.progress.stop()

    def step(self, info: str, **fields: Any) -> None:
        self.progress.update(self.task, advance=1, info=info, **fields)
        if self.lines:
            task = self.progress.tasks[0]
            self.progress.console.print(f"[{task.completed:.0f}/{task.total:.0f}] {info}", highlight=False)


class SweepProgress(_CountedBar):
    """The sweep's bar: runs done/total, ETA, cells running and failed, and the latest news
    (the current run's interaction under the local executor, hand-offs under Ray)."""

    def __init__(self, enabled: bool) -> None:
        super().__init__("runs", enabled, TextColumn("eta"), TimeRemainingColumn(),
                         TextColumn("{task.fields[counts]}"))
        self.current = ""
        self.running: set[str] = set()
        self.failed = 0

    def _counts(self) -> str:
        return f"{len(self.running)} running, {self.failed} failed |"

    def start_run(self, name: str, info: str) -> None:
        self.current = name
        self.running.add(name)
        self.progress.update(self.task, info=f"{name}: {info}", counts=self._counts())

    def on_event(self, event: Any, context: dict[str, Any]) -> None:
        record = getattr(event, "record", None)
        t = record.t + 1 if record is not None and hasattr(record, "turn") else context["t"]
        self.progress.update(self.task, info=f"{self.current}: interaction {t}/{context['interactions']}")

    def advance(self, name: str, info: str, failed: bool = False) -> None:
        self.running.discard(name)
        self.failed += failed
        self.step(f"{name}: {info}", counts=self._counts())


class UnitProgress(_CountedBar):
    """A bar over a fixed number of units (teachability: preferences x measurements)."""

    def __init__(self, label: str, total: int, enabled: bool) -> None:
        super().__init__(label, enabled)
        self.total = total

    def __enter__(self) -> UnitProgress:
        self.begin(self.total)
        return self

    def __exit__(self, *exc: Any) -> None:
        self.finish()
