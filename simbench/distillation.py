"""Offline SDPO from logged conversations: validate, load, train, write the manifest.

The library half of `simbench distill` (`simbench.distill` in the API): the conversation
file and settings are checked before the model loads, and `sdpo.offline.distill` writes the
adapter, checkpoint, training log and `distill.json` with this run's provenance merged in.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from sdpo.config import SDPOConfig
from sdpo.errors import ConfigError, SDPOError
from sdpo.offline import (
    ADAPTER_DIR,
    CHECKPOINT_DIR,
    LOG_FILE,
    MANIFEST_FILE,
    DistillResult,
    distill,
    parse_conversations,
)
from simbench.errors import InputError
from simbench.registry import suggest
from simbench.runner.parts import load_model
from simbench.runner.preflight import check_device, check_model_available, check_out_dir, out_path
from simbench.safe_load import POOL_BYTES, read_bounded

ON_ERROR_CHOICES = ("skip", "reject")
LOSS_CHOICES = ("token", "logit", "sequence")


@dataclass(frozen=True)
class Distilled:
    """A finished distillation: sdpo's result plus what the conversation file held."""

    result: DistillResult
    conversations: int
    bad_lines: int


def choice(flag: str, value: str, choices: tuple[str, ...]) -> str:
    if value not in choices:
        raise InputError(flag, f"bad value {value!r}", suggest(value, list(choices)))
    return value


def distill_conversations(
    conversations: Path,
    out: str | Path,
    *,
    model: str,
    device: str,
    k: int,
    batch_size: int,
    epochs: int,
    lr: float,
    loss: str,
    on_error: str,
    max_samples: int | None,
    save_every: int,
    seed: int,
    on_step: Callable[[dict[str, Any], int], None] | None = None,
    on_problem: Callable[[str], None] | None = None,
) -> Distilled:
    """See `simbench.api.distill`."""
    choice("--on-error", on_error, ON_ERROR_CHOICES)
    choice("--loss", loss, LOSS_CHOICES)
    out = out_path(out)
    if out.exists() and (not out.is_dir() or (out / LOG_FILE).exists()):
        raise InputError("--out", f"{out} already holds a distillation run or is a file", "choose a new folder")
    check_out_dir(out)
    for name in (LOG_FILE, MANIFEST_FILE, ADAPTER_DIR, CHECKPOINT_DIR):
        if (out / name).is_symlink():
            raise InputError("--out", f"{out / name} is a symbolic link; refusing to write through it",
                             "remove the link or choose a new folder")
    try:
        where = str(conversations.expanduser())
        raw = read_bounded(conversations.expanduser(), where, POOL_BYTES)
        parsed = parse_conversations(raw.split(b"\n"), k=k, on_error=on_error, source=where)
        config = _sdpo_config(lr, loss, seed)
    except SDPOError as exc:
        hint = exc.hint
        if on_error == "reject" and ", line " in exc.where:
            hint = "fix the lines, or pass --on-error skip to leave them out"
        raise InputError(exc.where, exc.problem, hint) from None
    for problem in parsed.problems:
        if on_problem is not None:
            on_problem(f"{parsed.source}, line {problem.line}: {problem.problem} (skipped)")
    examples = parsed.examples[:max_samples] if max_samples else parsed.examples
    if not examples:
        raise InputError(
            parsed.source,
            f"no (x, y, o) tuples: {parsed.conversations} valid conversation(s), {len(parsed.problems)} bad line(s)",
            "a tuple needs a user turn, the assistant's answer and the user's next message",
        )
    check_device(device)
    check_model_available(model)
    policy, tokenizer = load_model(model, device)
    provenance = {
        "conversations": parsed.source,
        "model": model,
        "device": device,
        "k": k,
        "on_error": on_error,
        "max_samples": max_samples,
        "valid_conversations": parsed.conversations,
        "conversations_without_tuples": parsed.without_tuples,
        "skipped_lines": [{"line": p.line, "problem": p.problem} for p in parsed.problems],
    }
    try:
        result = distill(policy, tokenizer, examples, out, config, batch_size=batch_size, epochs=epochs,
                         save_every=save_every, seed=seed, on_step=on_step, provenance=provenance)
    except SDPOError as exc:
        raise InputError(exc.where, exc.problem, exc.hint) from None
    return Distilled(result, parsed.conversations, len(parsed.problems))


def _sdpo_config(lr: float, loss: str, seed: int) -> SDPOConfig:
    try:
        return SDPOConfig(lr=lr, loss=loss, seed=seed)
    except ConfigError as exc:
        raise InputError(f"--{exc.where.replace('_', '-')}", exc.problem, exc.hint) from None
