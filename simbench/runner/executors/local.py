"""The local executor: the sweep's cells one after another in this process (the default).

Ctrl-C reaches the running cell, which finishes its batch, checkpoints and stops; the
remaining cells are left for the next invocation, which resumes the sweep.
"""

from __future__ import annotations

from typing import Any, Callable, Iterator, Optional, Sequence

from simbench.runner.executors.base import CellReport, SweepDisplay, run_cell, this_node


class LocalExecutor:
    """Runs every cell in this process, one at a time, with live per-interaction progress."""

    name = "local"

    def open(self, cells: Sequence[Any]) -> None:
        return None

    def describe(self) -> dict[str, Any]:
        return {"name": self.name}

    def run(
        self, cells: Sequence[Any], parts_factory: Optional[Callable[[Any], Any]], display: SweepDisplay,
    ) -> Iterator[CellReport]:
        node = this_node()
        for cell in cells:
            display.start_run(cell.name, "resuming" if cell.state == "resume" else "starting")
            report = run_cell(cell, parts_factory, on_event=display.on_event, node=node)
            yield report
            if report.status == "interrupted":
                return

    def close(self) -> None:
        return None
