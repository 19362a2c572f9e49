"""What a sweep executor is: the Protocol, the display it reports to, and the one-cell job.

A sweep plans its cells (`runner/sweep.py`), then hands the unfinished ones to an executor,
which runs each through `run_cell` (in this process, or on a Ray worker) and yields one
`CellReport` per cell as it ends. The sweep records the reports in sweep.json and tells the
display; the executor never writes sweep.json, so every executor leaves the same layout.
"""

from __future__ import annotations

import os
import socket
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator, Optional, Protocol, Sequence

from simbench.config import RunConfig
from simbench.errors import InputError, SimbenchError
from simbench.registry import Registry
from simbench.runner.lock import FolderInUse
from simbench.runner.run import execute
from simbench.safe_load import TEXT_BYTES, load_json, read_bounded


@dataclass(frozen=True)
class SweepCell:
    """One run of the grid and the folder it lives in (planned by `runner/sweep.py`, run here)."""

    persona_id: str
    learner: str
    seed: int
    config: RunConfig
    run_dir: Path
    state: str  # "new" | "resume" | "complete": what the folder holds before the sweep

    @property
    def name(self) -> str:
        return self.run_dir.name


class SweepDisplay(Protocol):
    """Progress of a sweep, owned by the caller (the CLI draws it with rich:
    `simbench.commands.display.SweepProgress`); the library only reports to it."""

    def begin(self, total: int) -> None:
        """The sweep has `total` cells (complete ones included); nothing has run yet."""

    def finish(self) -> None:
        """The sweep ended (normally, on Ctrl-C or on an error)."""

    def start_run(self, name: str, info: str) -> None:
        """Cell `name` started (local) or was handed to the cluster (ray)."""

    def on_event(self, event: Any, context: dict[str, Any]) -> None:
        """An episode event of the cell running in this process (local executor only)."""

    def advance(self, name: str, info: str, failed: bool = False) -> None:
        """Cell `name` ended; `info` says how, `failed` whether it needs attention."""


class _NoDisplay:
    """A SweepDisplay that draws nothing: the library's default (API callers, tests)."""

    def begin(self, total: int) -> None:
        pass

    def finish(self) -> None:
        pass

    def start_run(self, name: str, info: str) -> None:
        pass

    def on_event(self, event: Any, context: dict[str, Any]) -> None:
        pass

    def advance(self, name: str, info: str, failed: bool = False) -> None:
        pass


NO_DISPLAY: SweepDisplay = _NoDisplay()


class Executor(Protocol):
    """Runs a sweep's cells somewhere and reports each as it ends.

    `open` validates everything it can and connects before the sweep writes a file, so bad
    flags or an unreachable cluster are one line with nothing written.
    """

    name: str

    def open(self, cells: Sequence[SweepCell]) -> None:
        """Check the executor's settings against the cells and connect; raises InputError."""

    def describe(self) -> dict[str, Any]:
        """What sweep.json records about this executor (name, resources per cell, ...)."""

    def run(
        self, cells: Sequence[SweepCell], parts_factory: Optional[Callable[[Any], Any]],
        display: SweepDisplay,
    ) -> Iterator["CellReport"]:
        """Run `cells`, yielding one report per cell as it ends (completion order).

        After a Ctrl-C it yields the cells it stopped as "interrupted" and returns.
        """

    def close(self) -> None:
        """Release the connection (a no-op for the local executor)."""


EXECUTORS: Registry[Callable[..., Executor]] = Registry("executor", flag="--executor")


@dataclass
class CellReport:
    """How one cell ended; plain data, so a Ray worker can send it back.

    `node` names where it ran (host, pid; Ray adds node id and ip). `resumed_from` is the
    checkpoint (interaction) it continued from, None for a fresh start. `input_error` holds
    the fields of an InputError raised inside the cell, re-raised by the sweep as one line.
    """

    name: str
    status: str  # complete | interrupted | user_error | numerical_error | failed | input_error
    message: str = ""
    seconds: float = 0.0
    node: dict[str, Any] = field(default_factory=dict)
    resumed_from: Optional[int] = None
    input_error: Optional[dict[str, Any]] = None

    def raise_input_error(self) -> None:
        if self.input_error is not None:
            raise InputError(**self.input_error)


def this_node() -> dict[str, Any]:
    return {"host": socket.gethostname(), "pid": os.getpid()}


def checkpoint_position(run_dir: Path) -> Optional[int]:
    """The interaction of the run's latest checkpoint, None when it has none or it cannot be
    read: read by the bounded loader (a huge, deep or binary LATEST/state.json is no crash
    here), and `execute` then validates the checkpoint and names what is wrong with it."""
    latest = run_dir / "checkpoints" / "LATEST"
    if not latest.is_file():
        return None
    try:
        name = read_bounded(latest, str(latest), 256).decode("utf-8", "replace").strip()
        if not name or "/" in name or name in (".", ".."):
            return None
        state = run_dir / "checkpoints" / name / "state.json"
        t = load_json(state, kind=dict, max_bytes=TEXT_BYTES).get("t")
    except InputError:
        return None
    return t if isinstance(t, int) and not isinstance(t, bool) and t >= 0 else None


def run_cell(
    cell: SweepCell,
    parts_factory: Optional[Callable[[Any], Any]] = None,
    on_event: Optional[Callable[[Any, dict[str, Any]], None]] = None,
    node: Optional[dict[str, Any]] = None,
    stop: Optional[Callable[[], bool]] = None,
) -> CellReport:
    """Run (or continue) one cell into its folder, deciding fresh vs resume from the folder.

    The folder, not the plan, decides: a cell whose worker died is retried with a manifest
    already there, and goes through `--resume`'s path (logs cut back to the last checkpoint,
    then replayed), so its records end exactly as an uninterrupted run's; the run folder's
    lock is an flock, which the kernel released when that worker died. `stop` (asked at every
    batch end) stops the run as a Ctrl-C would; a population stops its members so. Simbench
    failures of the run (and a cell another process holds) become a report; any other
    InputError propagates (it would hit every cell).
    """
    resume = (cell.run_dir / "manifest.json").is_file()
    resumed_from = checkpoint_position(cell.run_dir) if resume else None
    started = time.perf_counter()
    try:
        run = execute(cell.config, out=cell.run_dir, resume=resume, on_event=on_event,
                      parts_factory=parts_factory, stop=stop)
        status, message = run.status, run.message
    except FolderInUse as exc:  # a `simbench run` holds this cell: the others can go on
        status, message = "failed", str(exc)
    except InputError:
        raise
    except SimbenchError as exc:
        status, message = "failed", str(exc)
    return CellReport(cell.name, status, message, time.perf_counter() - started,
                      node or this_node(), resumed_from)


def input_error_report(name: str, exc: InputError, node: dict[str, Any]) -> CellReport:
    """An InputError raised on a worker, as data (InputError itself does not unpickle)."""
    fields = {"where": exc.where, "problem": exc.problem, "hint": exc.hint}
    return CellReport(name, "input_error", str(exc), node=node, input_error=fields)
