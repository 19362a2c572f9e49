"""Checks that need no model, run before one is loaded: output folders, devices, options.

Everything here fails with one `InputError` line (exit 2) and writes nothing, so a typo in
`--device`, a learner option, a missing `--user local` model or an unwritable `--out` costs
a second, not a model load followed by a traceback.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any, overload

from sdpo.errors import ModelNotFoundError
from sdpo.models import check_available
from simbench.backends import BACKENDS
from simbench.errors import InputError
from simbench.learners import LEARNERS
from simbench.learners.base import LearnerContext
from simbench.paths import check_can_create, check_path_length
from simbench.runner.build import check_user
from simbench.runner.lock import LOCK_FILE

_DEVICE = re.compile(r"^(cpu|mps|cuda(:\d+)?)$")


# ---------------------------------------------------------------------------- output folders


@overload
def out_path(value: str | Path, flag: str = ...) -> Path: ...
@overload
def out_path(value: None, flag: str = ...) -> None: ...
@overload
def out_path(value: str | Path | None, flag: str = ...) -> Path | None: ...
def out_path(value: str | Path | None, flag: str = "--out") -> Path | None:
    """A CLI output-folder value as a Path; an empty string is refused (it would mean '.')."""
    if value is None:
        return None
    if not str(value).strip():
        raise InputError(flag, "is empty", "pass a folder path")
    check_path_length(value, flag)
    return Path(value)


def check_out_dir(folder: Path, flag: str = "--out") -> None:
    """`folder` must be a writable directory or a path that can be created as one."""
    text = str(folder)
    if not text.strip():
        raise InputError(flag, "is empty", "pass a folder path")
    check_path_length(folder, flag)
    if folder.exists() or folder.is_symlink():
        if not folder.is_dir():
            kind = "a file" if folder.is_file() else "not a folder (a device, socket or broken link)"
            raise InputError(flag, f"{folder} is {kind}", "pass a folder path")
        if not os.access(folder, os.W_OK | os.X_OK):
            raise InputError(flag, f"{folder} is not writable", "choose a writable folder")
        return
    check_can_create(folder, flag, "choose a writable folder")


def folder_is_empty(folder: Path) -> bool:
    """True for a missing or empty folder (a lock file left by a dead process does not count)."""
    return not folder.is_dir() or not [p for p in folder.iterdir() if p.name != LOCK_FILE]


# ---------------------------------------------------------------------------- devices


def check_device(device: str, flag: str = "--device") -> None:
    """`device` must name a torch device this machine has (cpu, cuda, cuda:N, mps)."""
    if not _DEVICE.match(device):
        raise InputError(flag, f"unknown device {device!r}", "use cpu, cuda, cuda:N or mps")
    if device == "cpu":
        return
    import torch

    if device == "mps":
        if not (getattr(torch.backends, "mps", None) and torch.backends.mps.is_available()):
            raise InputError(flag, "mps is not available on this machine", "use --device cpu")
        return
    if not torch.cuda.is_available():
        raise InputError(flag, f"{device!r} needs CUDA, which this machine (or torch build) lacks",
                         "use --device cpu")
    index = int(device.split(":")[1]) if ":" in device else 0
    if index >= torch.cuda.device_count():
        raise InputError(flag, f"{device!r}: this machine has {torch.cuda.device_count()} CUDA device(s)",
                         "use cuda:0 .. cuda:N-1")


# ---------------------------------------------------------------------------- models and options


def check_model_available(name: str, flag: str = "--model") -> None:
    """The model can be found locally (without loading or dequantising it)."""
    try:
        check_available(name)
    except ModelNotFoundError as exc:
        raise InputError(flag, str(exc)) from None


def check_learner_options(learner: str, options: dict[str, Any], seed: int) -> None:
    """The learner options are ones the arm accepts, with valid values."""
    context = LearnerContext(None, None, seed, dict(options))
    try:
        # The arm's own hook, no model needed; a `+unrelated` twin checks its learner's options.
        LEARNERS.get(learner).check_options(context)
    except (TypeError, ValueError) as exc:
        raise InputError("--learner-option", f"{learner}: {exc}") from None


def check_backend_settings(backend: str, model: str, device: str) -> None:
    """A backend with requirements on --model/--device (an optional `check_settings` hook,
    e.g. llama-cpp's GGUF-only, CPU-only) states them before any model loads."""
    check = getattr(BACKENDS.get(backend), "check_settings", None)
    if check is not None:
        check(model, device)


def preflight(inputs: Any) -> None:
    """Every check of a run's settings that needs no model (in order of cost)."""
    config = inputs.config
    check_learner_options(config.learner, dict(config.learner_options), config.seed)
    check_device(config.device)
    check_model_available(config.model)
    check_backend_settings(config.backend, config.model, config.device)
    check_user(inputs)
