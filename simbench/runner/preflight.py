"""Checks that need no model, run before one is loaded: output folders, devices, options.

Everything here fails with one `InputError` line (exit 2) and writes nothing, so a typo in
`--device`, a learner option, a missing `--user local` model or an unwritable `--out` costs
a second, not a model load followed by a traceback.
"""

from __future__ import annotations

import inspect
import os
import re
from pathlib import Path
from typing import Any

from simbench.errors import InputError

_DEVICE = re.compile(r"^(cpu|mps|cuda(:\d+)?)$")


# ---------------------------------------------------------------------------- output folders


def out_path(value: str | Path | None, flag: str = "--out") -> Path | None:
    """A CLI output-folder value as a Path; an empty string is refused (it would mean '.')."""
    if value is None:
        return None
    if not str(value).strip():
        raise InputError(flag, "is empty", "pass a folder path")
    return Path(value)


def check_out_dir(folder: Path, flag: str = "--out") -> None:
    """`folder` must be a writable directory or a path that can be created as one."""
    text = str(folder)
    if not text.strip():
        raise InputError(flag, "is empty", "pass a folder path")
    if folder.exists() or folder.is_symlink():
        if not folder.is_dir():
            kind = "a file" if folder.is_file() else "not a folder (a device, socket or broken link)"
            raise InputError(flag, f"{folder} is {kind}", "pass a folder path")
        if not os.access(folder, os.W_OK | os.X_OK):
            raise InputError(flag, f"{folder} is not writable", "choose a writable folder")
        return
    parent = folder.parent
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    if not parent.is_dir():
        raise InputError(flag, f"cannot create {folder}: {parent} is not a folder", "pass a folder path")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise InputError(flag, f"cannot create {folder}: {parent} is not writable", "choose a writable folder")


def folder_is_empty(folder: Path) -> bool:
    """True for a missing or empty folder (a lock file left by a dead process does not count)."""
    from simbench.runner.lock import LOCK_FILE

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
    from sdpo.errors import ModelNotFoundError
    from sdpo.models import check_available

    try:
        check_available(name)
    except ModelNotFoundError as exc:
        raise InputError(flag, str(exc)) from None


def check_learner_options(learner: str, options: dict[str, Any], seed: int) -> None:
    """The learner options are ones the arm accepts, with valid values."""
    from simbench.learners.base import LEARNERS, LearnerContext
    from simbench.learners.sdpo import LORA_ARMS, lora_config
    from simbench.learners.unrelated import base_learner

    flag = "--learner-option"
    context = LearnerContext(None, None, seed, dict(options))
    base = base_learner(learner)  # a `+unrelated` twin takes its learner's options
    try:
        if base in LORA_ARMS:
            fixed = {"loss": LORA_ARMS[base]} if LORA_ARMS[base] else {}
            lora_config(context, **fixed)
        else:
            # Arms without weights read only their options when built, so building one
            # without a model checks them (and ignores the LoRA options a sweep passes to all).
            LEARNERS.get(learner)(context)
    except (TypeError, ValueError) as exc:
        raise InputError(flag, f"{learner}: {exc}") from None
    except AttributeError:
        return  # an arm that needs the model to be built: checked when it is


def check_user(inputs: Any) -> None:
    """The user simulator can be built from its options. Users without a model (`rules`,
    `openai`: no request is sent, a missing key variable fails here) are built and dropped;
    a `local` user's options are checked against its signature and its model must exist."""
    from simbench.runner.build import build_user
    from simbench.users.base import USERS

    config = inputs.config
    if config.user != "local":
        build_user(inputs)
        return
    options = dict(config.user_options)
    model = options.pop("model", config.model)
    if not isinstance(model, str) or not model:
        raise InputError("--user-option", f"local: model must be a model name or folder, got {model!r}")
    accepted = set(inspect.signature(USERS.get("local").__init__).parameters) - {"self", "model", "tokenizer"}
    unknown = sorted(set(options) - accepted)
    if unknown:
        raise InputError("--user-option", f"local: unknown option {unknown[0]!r}",
                         f"the local user takes {', '.join(sorted(accepted))}")
    check_model_available(model, "--user-option model" if "model" in config.user_options else "--model")


def preflight(inputs: Any) -> None:
    """Every check of a run's settings that needs no model (in order of cost)."""
    config = inputs.config
    check_learner_options(config.learner, dict(config.learner_options), config.seed)
    check_device(config.device)
    check_model_available(config.model)
    check_user(inputs)
