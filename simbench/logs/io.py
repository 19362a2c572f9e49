"""Crash-safe JSONL logs: append-and-flush writers, tolerant readers, atomic small files.

A record is flushed as soon as it is written, so a killed run loses at most the line being
written; a torn last line (cut off mid-write, so not valid JSON) is detected and dropped.
Folders may be shared (a results folder), so no write follows a symbolic link planted where
a file will be: appends and truncation refuse one (`open_nofollow`), atomic writes replace it.
"""

from __future__ import annotations

import errno
import json
import math
import os
import stat
from pathlib import Path
from typing import IO, Any, Callable, Iterator

from pydantic import BaseModel

from sdpo.files import write_replacing
from simbench.errors import InputError
from simbench.safe_load import iter_jsonl as iter_numbered

_LINK_HINT = ("simbench writes only regular files here; replace the link with the file itself "
              "or choose another folder")


def open_nofollow(path: Path, flags: int, mode: int = 0o666) -> int:
    """A file descriptor for `path` (os.open `flags`) that never went through a symbolic link
    and is a regular file: a planted link, FIFO or device is one `InputError` naming the
    path. O_NONBLOCK keeps a FIFO from hanging the open; it is cleared again."""
    try:
        fd = os.open(path, flags | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC, mode)
    except OSError as exc:
        if exc.errno in (errno.ELOOP, errno.EMLINK) or os.path.islink(path):
            raise InputError(str(path), "is a symbolic link", _LINK_HINT) from None
        if exc.errno == errno.ENXIO:  # a FIFO with no reader
            raise InputError(str(path), "is not a regular file", _LINK_HINT) from None
        raise
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise InputError(str(path), "is not a regular file", _LINK_HINT)
    os.set_blocking(fd, True)
    return fd


def open_append_nofollow(path: Path) -> IO[str]:
    """`path` opened for appending text (created with open()'s mode when missing), refusing
    a planted symbolic link rather than appending to whatever it points at."""
    fd = open_nofollow(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT)
    return os.fdopen(fd, "a", encoding="utf-8")


class JsonlWriter:
    """Appends one JSON object per line and flushes after each record; `scrub` (e.g. removing
    an API key) is applied to every record before it is written."""

    def __init__(self, path: Path, scrub: Callable[[Any], Any] | None = None) -> None:
        self.path = path
        self.scrub = scrub
        self._file = open_append_nofollow(path)

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
    """Cut a log back to `size` bytes (its length at the last checkpoint); a symbolic link
    there is refused, never followed to cut another file."""
    if not os.path.lexists(path):
        return
    fd = open_nofollow(path, os.O_WRONLY)
    try:
        if os.fstat(fd).st_size > size:
            os.ftruncate(fd, size)
    finally:
        os.close(fd)


def write_atomic(path: Path, text: str | bytes) -> None:
    """Write `text` (or bytes, e.g. a PNG) to `path` via a temporary file and rename: never a
    half-written file, a symbolic link at `path` is replaced, not followed, and the file gets
    the mode open() would (a run folder is meant to be read by others)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    write_replacing(path, text)


def write_json(path: Path, data: Any) -> None:
    write_atomic(path, dumps_strict(data, indent=2, sort_keys=True) + "\n")

