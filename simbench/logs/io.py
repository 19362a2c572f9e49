"""Crash-safe JSONL logs: append-and-flush writers, tolerant readers, atomic small files.

A record is flushed as soon as it is written, so a killed run loses at most the line being
written; a torn last line (cut off mid-write, so not valid JSON) is detected and dropped.
"""

from __future__ import annotations

import json
import math
import os
import tempfile
from pathlib import Path
from typing import Any, Callable, Iterator

from pydantic import BaseModel

from simbench.logs.safe_load import iter_jsonl as iter_numbered


class JsonlWriter:
    """Appends one JSON object per line and flushes after each record; `scrub` (e.g. removing
    an API key) is applied to every record before it is written."""

    def __init__(self, path: Path, scrub: Callable[[Any], Any] | None = None) -> None:
        self.path = path
        self.scrub = scrub
        self._file = open(path, "a", encoding="utf-8")

    def write(self, record: BaseModel | dict[str, Any]) -> None:
        data = record.model_dump(mode="json") if isinstance(record, BaseModel) else record
        if self.scrub is not None:
            data = self.scrub(data)
        self._file.write(dumps_strict(data, sort_keys=True) + "\n")
        self._file.flush()

    def sync(self) -> None:
        """Flush to the OS and to disk (called at checkpoints)."""
        self._file.flush()
        os.fsync(self._file.fileno())

    def size(self) -> int:
        self._file.flush()
        return self._file.tell()

    def close(self) -> None:
        self._file.close()


def finite_or_null(value: Any) -> Any:
    """`value` with every NaN/inf float replaced by None, recursively (JSON has no NaN)."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: finite_or_null(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [finite_or_null(v) for v in value]
    return value


def dumps_strict(data: Any, **options: Any) -> str:
    """Standard JSON (no NaN/Infinity tokens, which strict parsers reject): a non-finite
    number, e.g. the advantages of an update skipped for a NaN loss, is written as null."""
    try:
        return json.dumps(data, ensure_ascii=False, allow_nan=False, **options)
    except ValueError:
        return json.dumps(finite_or_null(data), ensure_ascii=False, allow_nan=False, **options)


def iter_jsonl(path: Path) -> Iterator[dict[str, Any]]:
    """Records of a JSONL log (bounded, depth-checked); an unterminated torn last line is
    skipped, any other broken line raises `InputError` naming file and line."""
    for _, record in iter_numbered(path):
        yield record


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    return list(iter_jsonl(path))


def truncate(path: Path, size: int) -> None:
    """Cut a log back to `size` bytes (its length at the last checkpoint)."""
    if path.exists() and path.stat().st_size > size:
        with open(path, "r+b") as handle:
            handle.truncate(size)


def write_atomic(path: Path, text: str | bytes) -> None:
    """Write `text` (or bytes, e.g. a PNG) to `path` via a temporary file and rename: never a
    half-written file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        # mkstemp makes the file private (0600); a run folder is meant to be read by others
        # (a shared results folder), so give it the mode open() would: 0666 minus the umask.
        os.fchmod(fd, 0o666 & ~current_umask())
        with (os.fdopen(fd, "wb") if isinstance(text, bytes) else os.fdopen(fd, "w", encoding="utf-8")) as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_json(path: Path, data: Any) -> None:
    write_atomic(path, dumps_strict(data, indent=2, sort_keys=True) + "\n")


_UMASK: list[int] = []


def current_umask() -> int:
    """The process's umask, read once (from /proc where possible: setting it to read it back
    is a process-wide change another thread could race with)."""
    if not _UMASK:
        try:
            with open("/proc/self/status", encoding="ascii") as handle:
                line = next(line for line in handle if line.startswith("Umask:"))
            _UMASK.append(int(line.split()[1], 8))
        except (OSError, StopIteration, ValueError):
            mask = os.umask(0o022)
            os.umask(mask)
            _UMASK.append(mask)
    return _UMASK[0]
