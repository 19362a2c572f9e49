"""The model cache: where converted models live, and the one way a cache folder is written.

`cache_root()` is `$SIMBENCH_CACHE/models` (else `~/.cache/simbench/models`); `ensure_folder`
writes a folder once, under a temporary name renamed into place, so a crash never leaves a
half-written cache that a later run would trust. Used by sdpo.models (dequantised GGUFs) and
sdpo.presets (base + adapter merges).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import Callable

from sdpo.files import umask_modes

# Written last into a cache folder: its presence means the folder is complete.
CACHE_MARKER = "sdpo-cache.json"


def cache_base() -> Path:
    """The user cache folder: `$SIMBENCH_CACHE`, else `~/.cache/simbench`."""
    base = os.environ.get("SIMBENCH_CACHE")
    return Path(base).expanduser() if base else Path.home() / ".cache" / "simbench"


def cache_root() -> Path:
    """Folder holding cached models: `$SIMBENCH_CACHE/models`, else `~/.cache/simbench/models`."""
    return cache_base() / "models"


def ensure_folder(name: str, root: Path, write: Callable[[Path], None]) -> Path:
    """`root/name`, made once by `write(scratch)` (which must write CACHE_MARKER last).

    The folder is written under a temporary name and renamed into place, so a crash never
    leaves a half-written cache that a later run would trust.
    """
    target = root / name
    if (target / CACHE_MARKER).is_file():
        return target
    root.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=f".{name}.partial-", dir=root))
    try:
        write(scratch)
        umask_modes(scratch)  # mkdtemp makes it private; the cache is meant to be shared
        if target.exists():
            # Left by an older crash without the marker: it was never complete.
            if (target / CACHE_MARKER).is_file():
                return target
            shutil.rmtree(target)
        try:
            os.rename(scratch, target)
        except OSError:
            # Another process finished the same cache first; theirs is as good as ours.
            if not (target / CACHE_MARKER).is_file():
                raise
    finally:
        if scratch.exists():
            shutil.rmtree(scratch, ignore_errors=True)
    return target
