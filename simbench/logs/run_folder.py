"""`read_run(dir) -> RunFolder`: the one reader of run folders (runner, sweep, metrics, reports).

The manifest is parsed into the typed `Manifest` at once (a bad or newer one fails with the
file and field); each JSONL log is read into its record type on first use, under one rule for
crash damage: only the final line may be torn (cut off mid-write, no newline) and it is
dropped; any other unreadable or invalid line is an `InputError` naming file and line.
Checks of whole-folder invariants run as one validation step: append a function to
`RUN_CHECKS` and every reader applies it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, TypeVar

from pydantic import BaseModel, ValidationError

from simbench.errors import InputError
from simbench.logs.invariants import check_run_invariants, refuse_if_violated
from simbench.logs.schema import (
    SCHEMA_VERSION,
    DriftRecord,
    GeneralRecord,
    InteractionRecord,
    Manifest,
    ProbeRecord,
    SignalRecord,
    UpdateLogRecord,
)
from simbench.safe_load import iter_jsonl, load_json

MANIFEST_FILE = "manifest.json"
LOG_RECORDS: dict[str, type[BaseModel]] = {
    "interactions": InteractionRecord,
    "updates": UpdateLogRecord,
    "probes": ProbeRecord,
    "general": GeneralRecord,
    "signals": SignalRecord,
    "drift": DriftRecord,
}
Record = TypeVar("Record", bound=BaseModel)


@dataclass
class RunFolder:
    """A run folder: its typed manifest, and its logs as typed records (read on first use)."""

    path: Path
    manifest: Manifest
    _logs: dict[str, list[Any]] = field(default_factory=dict, repr=False)

    def log_path(self, name: str) -> Path:
        return self.path / f"{name}.jsonl"

    def records(self, name: str) -> list[Any]:
        """The records of log `name` (a key of LOG_RECORDS); [] when the file does not exist."""
        if name not in self._logs:
            self._logs[name] = read_records(self.log_path(name), LOG_RECORDS[name])
        return self._logs[name]

    def check_invariants(self) -> None:
        """Refuse logs that cannot be one run written in order by one writer
        (`logs.invariants`); reads every log."""
        logs = {name: self.records(name) for name in LOG_RECORDS}
        refuse_if_violated(check_run_invariants(self.manifest.to_json(), logs), self.path)

    def require(self, name: str, why: str) -> None:
        """Fail with one line when log `name` is missing (e.g. metrics need the probes)."""
        if not self.log_path(name).is_file():
            raise InputError(str(self.log_path(name)), "is missing", why)

    @property
    def interactions(self) -> list[InteractionRecord]:
        return self.records("interactions")

    @property
    def updates(self) -> list[UpdateLogRecord]:
        return self.records("updates")

    @property
    def probes(self) -> list[ProbeRecord]:
        return self.records("probes")

    @property
    def general(self) -> list[GeneralRecord]:
        return self.records("general")

    @property
    def drift(self) -> list[DriftRecord]:
        return self.records("drift")

    @property
    def signals(self) -> list[SignalRecord]:
        return self.records("signals")


def check_version(folder: RunFolder) -> None:
    """A folder written by a newer simbench is refused rather than misread."""
    version = folder.manifest.schema_version
    if version > SCHEMA_VERSION:
        raise InputError(
            str(folder.path / MANIFEST_FILE),
            f"schema_version {version} is newer than this simbench reads ({SCHEMA_VERSION})",
            "upgrade simbench",
        )


RUN_CHECKS: list[Callable[[RunFolder], None]] = [check_version]
"""Whole-folder invariants `read_run` applies, in order; each raises InputError."""


def read_run(run_dir: str | Path) -> RunFolder:
    """The run in `run_dir`, its manifest parsed and every check in RUN_CHECKS passed."""
    path = Path(run_dir)
    folder = RunFolder(path, read_manifest(path / MANIFEST_FILE))
    for check in RUN_CHECKS:
        check(folder)
    return folder


def read_manifest(path: Path) -> Manifest:
    """`manifest.json` parsed and validated; one-line errors name the file and field."""
    if not path.is_file():
        raise InputError(str(path), "is missing", "pass a run folder written by `simbench run`")
    data = load_json(path, kind=dict)  # bounded, depth-checked: one line for any broken file
    try:
        return Manifest.model_validate(data)
    except ValidationError as error:
        raise validation_error(str(path), error) from None


def read_records(path: Path, model: type[Record]) -> list[Record]:
    """Records of a JSONL log ([] when it does not exist) under the torn-line rule."""
    records = []
    for number, data in iter_jsonl(path):
        try:
            records.append(model.model_validate(data))
        except ValidationError as error:
            raise validation_error(f"{path}: line {number}", error) from None
    return records


def validation_error(where: str, error: ValidationError) -> InputError:
    """The first problem of a pydantic error as one line naming the field."""
    first = error.errors()[0]
    location = ".".join(str(part) for part in first["loc"])
    if first["type"] == "missing":
        return InputError(where, f"missing key '{location}'", "rewrite the file or rerun")
    message = first["msg"].removeprefix("Value error, ")
    shown = first.get("input")
    got = "" if isinstance(shown, (dict, list)) else f" (got {shown!r})"
    return InputError(f"{where}: {location}" if location else where, f"{message}{got}")
