"""One writer per folder: an exclusive lock a run (or a sweep) holds for its whole life.

The lock is a file in the folder, `flock`ed exclusively and holding the owner's pid, host
and start time. The kernel releases an flock when its process dies however it dies
(SIGKILL included), so a lock file left behind by a dead process is simply taken over; the
pid/host inside only names the owner in the refusal. Where the file system has no working
flock (some network mounts answer ENOLCK), the lock falls back to the pid/host record: a
lock of a dead process on this host is stale and taken over, one of a live process or of
another host is respected. A second writer gets one `InputError` line (exit 2).

The folder may be shared, so the lock file is opened without following a symbolic link
(O_NOFOLLOW) and refused unless it is a regular file of the current user: otherwise a link
planted at `.simbench.lock` would have the owner record written over whatever it points at.
"""

from __future__ import annotations

import errno
import json
import os
import socket
import stat
import time
from pathlib import Path
from types import TracebackType
from typing import Any

from simbench.errors import InputError

LOCK_FILE = ".simbench.lock"
_NO_FLOCK = (errno.ENOLCK, errno.EOPNOTSUPP, errno.ENOSYS, errno.EINVAL)


class FolderInUse(InputError):
    """Another process holds the folder's lock (exit 2, like any input the user can fix)."""


class FolderLock:
    """Exclusive lock on `folder` (created if missing; removed again on release when this lock
    created it and nothing else was written). Use as a context manager."""

    def __init__(self, folder: Path, flag: str = "--out", what: str = "run folder") -> None:
        self.folder = Path(folder)
        self.path = self.folder / LOCK_FILE
        self.flag = flag
        self.what = what
        self._fd: int | None = None
        self._created: list[Path] = []  # folders this lock made, deepest first

    # ------------------------------------------------------------------ acquire / release

    def acquire(self) -> "FolderLock":
        try:
            self._created = _make_folders(self.folder)
            for _ in range(10):  # only loops when another process swapped the file under us
                fd = self._open(os.O_RDWR | os.O_CREAT)
                try:
                    self._check_owned(fd)
                    locked = self._lock(fd) and _same_file(fd, self.path)
                except BaseException:
                    os.close(fd)
                    raise
                if locked:
                    self._fd = fd
                    _write_owner(fd)
                    return self
                os.close(fd)
        except InputError:
            self._cleanup()
            raise
        except OSError as exc:
            self._cleanup()
            raise InputError(self.flag, f"cannot write to {self.folder} ({exc.strerror or exc})",
                             "choose a writable folder") from None
        self._cleanup()
        raise InputError(self.flag, f"cannot lock {self.path}: it keeps being replaced")

    def ensure_free(self) -> None:
        """Refuse now if another process holds the folder; creates nothing. Lets a second
        writer hear "in use" rather than a complaint about the half-written folder."""
        import fcntl

        try:
            fd = os.open(self.path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
        except OSError:
            return  # no lock file (or a link, or an unreadable one): `acquire` will tell
        try:
            if self._lock(fd):
                fcntl.flock(fd, fcntl.LOCK_UN)
        except FolderInUse:
            raise
        except OSError:
            pass
        finally:
            os.close(fd)

    def _open(self, flags: int) -> int:
        """The lock file's descriptor, never through a symbolic link; O_NONBLOCK so a FIFO
        planted there cannot hang the open."""
        try:
            return os.open(self.path, flags | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC, 0o644)
        except OSError as exc:
            if exc.errno == errno.ELOOP or self.path.is_symlink():
                raise self._refused("is a symbolic link") from None
            if exc.errno == errno.ENXIO:  # a FIFO without a reader
                raise self._refused("is not a regular file") from None
            raise

    def _check_owned(self, fd: int) -> None:
        """Refuse a lock file that is not a regular file of ours (checked on the open file,
        so it cannot be swapped between the check and the use)."""
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise self._refused("is not a regular file")
        if info.st_uid != os.geteuid():
            raise self._refused(f"belongs to another user (uid {info.st_uid})")

    def _refused(self, problem: str) -> InputError:
        return InputError(
            self.flag, f"lock file {self.path} {problem}",
            "remove it if no simbench process is using the folder, or choose another folder",
        )

    def _lock(self, fd: int) -> bool:
        """True when `fd` is now locked by us; raises `FolderInUse` when another holds it."""
        import fcntl

        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except BlockingIOError:
            raise self._in_use(_read_owner(fd)) from None
        except OSError as exc:
            if exc.errno not in _NO_FLOCK:
                raise
        # No flock on this file system: trust the pid/host record instead.
        owner = _read_owner(fd)
        if owner and not _is_stale(owner) and owner.get("pid") != os.getpid():
            raise self._in_use(owner)
        return True

    def _in_use(self, owner: dict[str, Any]) -> FolderInUse:
        who = (f"pid {owner.get('pid')} on host {owner.get('host')} since {owner.get('started')}"
               if owner else "another process")
        return FolderInUse(
            self.flag, f"{self.what} {self.folder} is in use by {who}",
            "wait for it to finish, or use another folder; one writer per folder",
        )

    def release(self) -> None:
        if self._fd is None:
            return
        try:
            # Unlink while still holding the lock: a waiter that opened the old file then
            # finds it is no longer the one at the path (`_same_file`) and starts over.
            self.path.unlink(missing_ok=True)
        finally:
            os.close(self._fd)
            self._fd = None
        self._cleanup()

    def _cleanup(self) -> None:
        """Remove the folders this lock created, where they stayed empty."""
        for folder in self._created:
            try:
                folder.rmdir()
            except OSError:
                break
        self._created = []

    def keep_folder(self) -> None:
        """The folder now holds a run: never remove it on release."""
        self._created = []

    def __enter__(self) -> "FolderLock":
        return self.acquire()

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.release()


def _make_folders(folder: Path) -> list[Path]:
    """Create `folder` and its missing parents; the ones created, deepest first."""
    missing = []
    current = folder
    while not current.is_dir() and current != current.parent:
        missing.append(current)
        current = current.parent
    folder.mkdir(parents=True, exist_ok=True)
    return missing


def _same_file(fd: int, path: Path) -> bool:
    try:
        on_disk = os.stat(path)
    except FileNotFoundError:
        return False
    mine = os.fstat(fd)
    return (mine.st_dev, mine.st_ino) == (on_disk.st_dev, on_disk.st_ino)


def _write_owner(fd: int) -> None:
    owner = {"pid": os.getpid(), "host": socket.gethostname(),
             "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    os.ftruncate(fd, 0)
    os.pwrite(fd, (json.dumps(owner) + "\n").encode(), 0)


def _read_owner(fd: int) -> dict[str, Any]:
    try:
        data = json.loads(os.pread(fd, 4096, 0) or b"{}")
    except (OSError, ValueError, RecursionError):  # 4096 bytes of "[" overflow the parser
        return {}
    return data if isinstance(data, dict) else {}


def _is_stale(owner: dict[str, Any]) -> bool:
    """A record of a process on this host that no longer runs. Another host's record cannot
    be checked from here, so it is never stale."""
    if owner.get("host") != socket.gethostname():
        return False
    pid = owner.get("pid")
    if not isinstance(pid, int) or pid <= 0:
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False  # alive, owned by another user
    return False
