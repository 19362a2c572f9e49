"""File modes of what sdpo writes: those open() would give (0666/0777 minus the umask).

Checkpoints are written into `tempfile.mkdtemp` folders (0700) by peft, torch and
safetensors (whose weight files come out 0600), then renamed into place; `umask_modes`
gives the finished folder the modes the umask promises before it is renamed.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def current_umask() -> int:
    """The process's umask, read from /proc where possible: setting it to read it back is a
    process-wide change another thread could race with. Read on every call, as a program
    (or a test) may change it while running."""
    try:
        with open("/proc/self/status", encoding="ascii") as handle:
            for line in handle:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def umask_modes(folder: str | Path) -> None:
    """Give `folder` and everything in it the modes open() and mkdir() would: folders
    0777, files 0666, minus the umask. Symbolic links are neither followed nor changed."""
    mask = current_umask()
    root = Path(folder)
    os.chmod(root, 0o777 & ~mask)
    for parent, folders, files in os.walk(root):
        for name in folders + files:
            path = os.path.join(parent, name)
            if os.path.islink(path):
                continue
            os.chmod(path, (0o777 if name in folders else 0o666) & ~mask)


def write_replacing(path: str | Path, data: str | bytes) -> None:
    """Write `data` to a temporary file beside `path` and rename it over `path`: never a
    half-written file, and a symbolic link planted at `path` is replaced, not written
    through. The file gets open()'s mode (mkstemp's would be 0600) and is fsynced before the
    rename, so a crash leaves the old file or the new one."""
    target = Path(path)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.")
    try:
        os.fchmod(fd, 0o666 & ~current_umask())
        with os.fdopen(fd, "wb") as handle:
            handle.write(data.encode("utf-8") if isinstance(data, str) else data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
