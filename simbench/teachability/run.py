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
from typing import Any, Sequence

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress as RichProgress,
    TextColumn,
    TimeElapsedColumn,
)

from sdpo.config import SDPOConfig
from sdpo.errors import ConfigError
from simbench.errors import InputError
from simbench.persona.library import BUILTIN, builtin_ids
from simbench.prompts import load_prompts
from simbench.registry import suggest
from simbench.runner.parts import load_model
from simbench.runner.preflight import check_device, check_model_available
from simbench.teachability.measure import TeachabilitySettings, measure_rows
from simbench.teachability.report import TeachabilityPaths, write_teachability

TRAIN_POOL, PROBE_POOL = "builtin:train", "builtin:probe"


def check_settings(settings: TeachabilitySettings, out: Path) -> tuple[list[Any], list[Any], list[Any]]:
    """(preferences, training prompts, probe prompts) for `settings`, or a one-line InputError."""
    if not settings.preferences:
        raise InputError("--preferences", "no preference given", "name built-in ids, or leave the flag out for all")
    for pid in settings.preferences:
        if pid not in BUILTIN:
            raise InputError("--preferences", f"unknown preference {pid!r}", suggest(pid, builtin_ids(), False))
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
    show_progress: bool = True,
    loader: Any = None,
) -> tuple[list[Any], TeachabilityPaths]:
    """Measure the map of `model` and write teachability.{md,json,png} into `out`.

    `loader(name, device) -> (model, tokenizer)` defaults to the benchmark's model loading.
    """

    preferences, train, probes = check_settings(settings, out)
    check_device(device)
    if loader is None:
        check_model_available(model)
    started = time.perf_counter()
    policy, tokenizer = (loader or load_model)(model, device)
    loaded = time.perf_counter()
    with Progress(settings.units(), enabled=show_progress) as progress:
        rows = measure_rows(policy, tokenizer, preferences, train, probes, settings, progress.advance)
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
        "load_seconds": round(loaded - started, 1),
        "seconds": round(time.perf_counter() - started, 1),
    }
    return rows, write_teachability(out, rows, meta)


class Progress:
    """A rich progress bar over the measurement units; without a terminal, one line per unit."""

    def __init__(self, total: int, enabled: bool) -> None:
        console = Console(stderr=True)
        self.lines = enabled and not console.is_terminal
        self.bar = RichProgress(
            TextColumn("[bold]teachability"), MofNCompleteColumn(), BarColumn(), TimeElapsedColumn(),
            TextColumn("{task.fields[info]}"), console=console, disable=not enabled or self.lines,
        )
        self.task = self.bar.add_task("teachability", total=total, info="")

    def __enter__(self) -> "Progress":
        self.bar.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.bar.stop()

    def advance(self, info: str) -> None:
        self.bar.update(self.task, advance=1, info=info)
        if self.lines:
            task = self.bar.tasks[0]
            self.bar.console.print(f"[{task.completed:.0f}/{task.total:.0f}] {info}", highlight=False)


def all_preferences() -> Sequence[str]:
    return builtin_ids()
