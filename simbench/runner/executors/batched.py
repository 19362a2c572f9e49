"""The batched executor: a sweep's cells as populations, each in one process on one model.

Up to `--max-members` cells at a time (the rest follow in later groups) run as one
population (`simbench/population/`): every member writes its own run folder with the
single-run schema, while their generations and SDPO updates run as batched calls on one
copy of the base model. Everything a population cannot run is refused in `open`, before any
model loads.
"""

from __future__ import annotations

import threading
from typing import Any, Callable, Iterator, Optional, Sequence

from simbench.errors import InputError
from simbench.runner.executors.base import CellReport, SweepDisplay
from simbench.runner.parts import ModelLoader, load_model


class BatchedExecutor:
    """Runs cells as populations of at most `max_members` members (default: all at once)."""

    name = "batched"
    OPTIONS = ("max_members",)

    def __init__(self, max_members: Optional[int] = None, load: ModelLoader = load_model) -> None:
        if max_members is not None and (isinstance(max_members, bool) or not isinstance(max_members, int)
                                        or max_members < 1):
            raise InputError("--max-members", f"must be a whole number of at least 1, got {max_members!r}")
        self.max_members = max_members
        self.load = load

    def open(self, cells: Sequence[Any]) -> None:
        from simbench.population.checks import check_population

        check_population(cells)

    def describe(self) -> dict[str, Any]:
        return {"name": self.name, "max_members": self.max_members}

    def run(
        self, cells: Sequence[Any], parts_factory: Optional[Callable[[Any], Any]], display: SweepDisplay,
    ) -> Iterator[CellReport]:
        from simbench.population.checks import align_checkpoints
        from simbench.population.population import Population

        if parts_factory is not None:
            raise ValueError("the batched executor builds its members' parts itself; pass load= instead")
        size = self.max_members or max(len(cells), 1)
        stop = threading.Event()
        for start in range(0, len(cells), size):
            group = list(cells[start : start + size])
            for cell in group:
                display.start_run(cell.name, "resuming in a population" if cell.state == "resume" else "in a population")
            align_checkpoints(group)
            yield from Population(group, load=self.load).run(stop, display.on_event)
            if stop.is_set():  # a member failed or Ctrl-C: later groups wait for the next invocation
                return

    def close(self) -> None:
        return None
