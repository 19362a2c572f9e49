"""A persistent cache of judge replies, so re-scoring a run asks the endpoint nothing new.

A reply is keyed by everything that determines it under greedy decoding: the endpoint's
base URL and model, the reply cap, and the exact messages (which hold the rubric or
criterion, the user prompt and the answers). The cache is one append-only JSONL file, one
`{"key", "reply"}` object per line, appended whole with O_APPEND so concurrent writers do
not interleave; a torn last line (a crash mid-append) is ignored on reading and the reply is
simply asked again. Replies are stored raw and parsed on every read, so a better verdict
parser applies to cached replies too. The file is read by the bounded JSONL reader and its
path is checked when the judge is built, so an unusable cache fails before a model loads.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
from pathlib import Path
from typing import Mapping, Sequence

from simbench.errors import InputError
from simbench.logs.io import open_nofollow
from simbench.paths import check_can_create, check_path_length
from simbench.safe_load import iter_jsonl


def default_cache_path() -> Path:
    """`$SIMBENCH_CACHE/judge/replies.jsonl`, else `~/.cache/simbench/judge/replies.jsonl`."""
    base = os.environ.get("SIMBENCH_CACHE")
    root = Path(base).expanduser() if base else Path.home() / ".cache" / "simbench"
    return root / "judge" / "replies.jsonl"


def reply_key(base_url: str, model: str, max_tokens: int, messages: Sequence[Mapping[str, str]]) -> str:
    """sha256 of the request that decides a greedy reply."""
    canonical = json.dumps(
        [base_url, model, max_tokens, [dict(m) for m in messages]], sort_keys=True, ensure_ascii=False
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


class ReplyCache:
    """Judge replies by `reply_key`; `path=None` keeps them in memory only."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._replies: dict[str, str] = {}
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0
        if path is not None:
            check_cache_file(path)
            if path.is_file():
                self._replies = _read(path)

    def __repr__(self) -> str:
        return f"ReplyCache(path={str(self.path) if self.path else None!r}, entries={len(self._replies)})"

    def get(self, key: str) -> str | None:
        with self._lock:
            reply = self._replies.get(key)
            if reply is None:
                self.misses += 1
            else:
                self.hits += 1
            return reply

    def put(self, key: str, reply: str) -> None:
        line = json.dumps({"key": key, "reply": reply}, ensure_ascii=False) + "\n"
        with self._lock:
            if key in self._replies:
                return
            self._replies[key] = reply
            if self.path is None:
                return
            self.path.parent.mkdir(parents=True, exist_ok=True)
            # One write() per line keeps concurrent appends whole; a link planted in a shared
            # cache folder is refused, never appended through.
            fd = open_nofollow(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT)
            try:
                os.write(fd, line.encode())
            finally:
                os.close(fd)


def check_cache_file(path: Path, flag: str = "--judge-option cache") -> None:
    """The cache can be read and appended to: a regular writable file, or a path whose nearest
    existing folder is writable (it is created on the first reply). Else one `InputError`."""
    check_path_length(path, flag)
    if path.exists() or path.is_symlink():
        if not path.is_file():
            kind = "a folder" if path.is_dir() else "not a regular file"
            raise InputError(flag, f"{path} is {kind}", "pass a .jsonl file path, or cache=off")
        if not os.access(path, os.R_OK | os.W_OK):
            raise InputError(flag, f"{path} is not readable and writable", "pass another path, or cache=off")
        return
    check_can_create(path, flag, "pass another path, or cache=off")


def _read(path: Path) -> dict[str, str]:
    # The one bounded JSONL reader: a torn last line is dropped (asked again when needed);
    # a corrupt line elsewhere, deep nesting or bad bytes are one error naming the line.
    replies: dict[str, str] = {}
    try:
        for _, entry in iter_jsonl(path, f"judge cache {path}"):
            if isinstance(entry.get("key"), str) and isinstance(entry.get("reply"), str):
                replies.setdefault(entry["key"], entry["reply"])
    except InputError as exc:
        raise InputError(exc.where, exc.problem, "delete the cache file (replies are asked again) or pass "
                         "--judge-option cache=off") from None
    return replies
