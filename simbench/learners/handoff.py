"""The adapter half of the learner <-> backend contract: the current LoRA adapter, on disk.

An out-of-process backend (vLLM) cannot read the learner's tensors; it loads the adapter from
a folder. `AdapterFolder` writes the adapter once per weight version (so generating twice
between updates writes nothing) into a fresh sub-folder, and removes the previous one: a
backend that caches adapters by folder and timestamp never sees a half-written or stale one.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Any, Callable

from sdpo.adapters import save_adapter


class AdapterFolder:
    """The current adapter of `model` as a peft folder under `root` (default: a temp dir)."""

    def __init__(self, model: Any, root: Path | None = None,
                 save: Callable[[Any, Path], None] | None = None) -> None:
        self.model = model
        self.root = root
        self._save = save
        self._version: int | None = None
        self._folder: Path | None = None

    def current(self, version: int) -> Path:
        """The folder of the adapter at weight `version` (a counter the learner bumps on update)."""
        if self._folder is not None and version == self._version:
            return self._folder
        if self.root is None:
            self.root = Path(tempfile.mkdtemp(prefix="simbench-adapter-"))
        folder = self.root / f"v{version:06d}"
        shutil.rmtree(folder, ignore_errors=True)
        save = self._save or _save_adapter
        save(self.model, folder)
        previous, self._folder, self._version = self._folder, folder, version
        if previous is not None and previous != folder:
            shutil.rmtree(previous, ignore_errors=True)
        return folder


def _save_adapter(model: Any, folder: Path) -> None:
    save_adapter(model, folder)
