"""`teachability()`: check the settings, load the model, measure every preference's row,
write the map. The CLI (`simbench teachability`) is a thin layer over this function.

Everything a user can get wrong (an unknown preference, more probes than the pool holds, an
output path that is a file) fails with one line before the model is loaded or anything is
written.
"""

from __future__ import annotations

import platform
import time
from pathlib import Path
from typing import Any, Callable, Optional, Sequence

from sdpo.config import SDPOConfig
from sdpo.errors import ConfigError
from simbench.errors import InputError
from simbench.persona.library import BUILTIN, builtin_ids, verifiable_ids
from simbench.prompts import load_prompts
from simbench.registry import suggest
from simbench.runner.parts import load_model
from simbench.runner.preflight import check_device, check_model_available
from simbench.runner.provenance import cpu_flags
from simbench.teaching.measure import TeachabilitySettings, measure_rows
from simbench.teaching.report import TeachabilityPaths, write_teachability

TRAIN_POOL, PROBE_POOL = "builtin:train", "builtin:probe"


def check_settings(settings: TeachabilitySettings, out: Path) -> tuple[list[Any], list[Any], list[Any]]:
    """(preferences, training prompts, probe prompts) for `settings`, or a one-line InputError."""
    if not settings.preferences:
        raise InputError("--preferences", "no preference given", "name built-in ids, or leave the flag out for all")
    for pid in settings.preferences:
        if pid not in BUILTIN:
            raise InputError("--preferences", f"unknown preference {pid!r}", suggest(pid, builtin_ids(), False))
        if not BUILTIN[pid].verifiable:
            raise InputError("--preferences", f"{pid!r} is judge-scored (a rubric, no checker)",
                             "the teachability map needs checkers; leave it out")
    if len(set(settings.preferences)) != len(settings.preferences):
        raise InputError("--preferences", "a preference is named twice", "name each once")
    for flag, value in (("--max-new-tokens", settings.max_new_tokens), ("--probes", settings.probes),
                        ("--micro-steps", settings.micro_steps), ("--batch-size", settings.batch_size),
                        ("--bootstrap", settings.bootstrap)):
        if value < 1:
            raise InputError(flag, f"must be >= 1, got {value}")
    _check_learner_options(settings)
    train, probes = load_prompts(TRAIN_POOL), load_prompts(PROBE_POOL)
    if settings.probes > len(probes):
        raise InputError("--probes", f"{settings.probes} requested but the probe pool has {len(probes)}")
    if settings.micro_steps * settings.batch_size > len(train):
        raise InputError("--micro-steps", f"needs {settings.micro_steps * settings.batch_size} training prompts, "
                         f"the pool has {len(train)}")
    if out.exists() and not out.is_dir():
        raise InputError("--out", f"{out} exists and is not a folder", "pass a folder path")
    return [BUILTIN[pid] for pid in settings.preferences], train, probes[: settings.probes]


def _check_learner_options(settings: TeachabilitySettings) -> None:
    try:
        SDPOConfig.from_dict({**dict(settings.learner_options), "loss": "token", "seed": settings.seed})
    except ConfigError as exc:
        raise InputError("--learner-option", str(exc)) from None


def teachability(
    model: str,
    settings: TeachabilitySettings,
    out: Path,
    device: str = "cpu",
    command: str = "",
    on_unit: Optional[Callable[[str], None]] = None,
    loader: Any = None,
) -> tuple[list[Any], TeachabilityPaths]:
    """Measure the map of `model` and write teachability.{md,json,png} into `out`.

    `loader(name, device) -> (model, tokenizer)` defaults to the benchmark's model loading;
    `on_unit(info)` hears each of the `settings.units()` measurement units as it ends (the
    CLI's progress bar).
    """

    preferences, train, probes = check_settings(settings, out)
    check_device(device)
    if loader is None:
        check_model_available(model)
    started = time.perf_counter()
    policy, tokenizer = (loader or load_model)(model, device)
    loaded = time.perf_counter()
    rows = measure_rows(policy, tokenizer, preferences, train, probes, settings, on_unit or _ignore)
    meta = {
        "model": model,
        "command": command,
        "device": device,
        "preferences": list(settings.preferences),
        "max_new_tokens": settings.max_new_tokens,
        "probes": len(probes),
        "micro_steps": settings.micro_steps,
        "batch_size": settings.batch_size,
        "seed": settings.seed,
        "bootstrap": settings.bootstrap,
        "learner_options": dict(settings.learner_options),
        "train_pool": TRAIN_POOL,
        "probe_pool": PROBE_POOL,
        "python": platform.python_version(),
        "cpu_flags": cpu_flags(),
        "load_seconds": round(loaded - started, 1),
        "seconds": round(time.perf_counter() - started, 1),
    }
    return rows, write_teachability(out, rows, meta)


def _ignore(info: str) -> None:
    pass


def all_preferences() -> Sequence[str]:
    """The default `--preferences`: every built-in a checker decides."""
    return verifiable_ids()
