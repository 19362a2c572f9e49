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
from typing import Any, Iterator

from pydantic import BaseModel


class JsonlWriter:
    """Appends one JSON object per line and flushes after each record."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._file = open(path, "a", encoding="utf-8")

    def write(self, record: BaseModel | dict[str, Any]) -> None:
        data = record.model_dump(mode="json") if isinstance(record, BaseModel) else record
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
    """Records of a JSONL log; a torn final line is skipped, a broken middle line raises."""
    if not path.exists():
        return
    with open(path, "rb") as handle:
        lines = handle.read().split(b"\n")
    last = len(lines) - 1
    for number, raw in enumerate(lines):
        if not raw.strip():
            continue
        try:
            yield json.loads(raw)
        except (json.JSONDecodeError, UnicodeDecodeError):
            if number == last:
                return  # no trailing newline: the torn last line of a killed run
            raise ValueError(f"{path}:{number + 1}: not valid JSON") from None


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
