"""`simbench distill`: offline SDPO from logged conversations (JSONL, one message list per line)
into a LoRA adapter, with a JSONL training log.

Malformed lines are reported with their line numbers and skipped (`--on-error skip`) or
rejected (`--on-error reject`: exit 2 and nothing written). Thin layer over `sdpo.offline`.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any, Optional

import typer

from simbench.errors import InputError
from simbench.run_defaults import default_of

ON_ERROR_CHOICES = ("skip", "reject")
LOSS_CHOICES = ("token", "logit", "sequence")
MANIFEST = "distill.json"


def _choice(flag: str, value: str, choices: tuple[str, ...]) -> str:
    if value not in choices:
        from simbench.registry import suggest

        raise InputError(flag, f"bad value {value!r}", suggest(value, list(choices)))
    return value


def distill_command(
    conversations: Path = typer.Option(..., help="JSONL file: one JSON list of {role, content} messages per line."),
    model: str = typer.Option(default_of("model"), help="Policy model: short name, local folder or cached HF id."),
    out: str = typer.Option(..., help="Folder for the adapter, checkpoint, training_log.jsonl and distill.json."),
    k: int = typer.Option(4, "--k", min=1, help="Messages of history kept before each assistant turn (x)."),
    batch_size: int = typer.Option(4, min=1, help="(x, y, o) tuples per update."),
    epochs: int = typer.Option(1, min=1, help="Passes over the tuples (each reshuffled)."),
    lr: float = typer.Option(5e-4, help="AdamW learning rate."),
    loss: str = typer.Option("token", help="SDPO loss: token | logit | sequence."),
    on_error: str = typer.Option("skip", help="Malformed lines: skip (warn and go on) | reject (exit 2)."),
    max_samples: Optional[int] = typer.Option(None, min=1, help="Train on at most N tuples (file order)."),
    save_every: int = typer.Option(0, min=0, help="Also checkpoint every N updates (0: only at the end)."),
    seed: int = typer.Option(0, min=0, help="Seed for shuffling and LoRA initialisation."),
    device: str = typer.Option(default_of("device"), help="Torch device."),
) -> None:
    """Distill the follow-ups in logged conversations into the model with SDPO (LoRA)."""
    from sdpo.errors import SDPOError

    from simbench.runner.preflight import check_device, check_model_available, check_out_dir, out_path

    _choice("--on-error", on_error, ON_ERROR_CHOICES)
    _choice("--loss", loss, LOSS_CHOICES)
    out = out_path(out)
    if out.exists() and (not out.is_dir() or (out / "training_log.jsonl").exists()):
        raise InputError("--out", f"{out} already holds a distillation run or is a file", "choose a new folder")
    check_out_dir(out)
    try:
        parsed, config = _prepare(conversations, k, on_error, lr, loss, seed)
    except SDPOError as exc:
        hint = exc.hint
        if on_error == "reject" and ", line " in exc.where:
            hint = "fix the lines, or pass --on-error skip to leave them out"
        raise InputError(exc.where, exc.problem, hint) from None
    for problem in parsed.problems:
        print(f"warning: {parsed.source}, line {problem.line}: {problem.problem} (skipped)", file=sys.stderr)
    examples = parsed.examples[:max_samples] if max_samples else parsed.examples
    if not examples:
        raise InputError(
            parsed.source,
            f"no (x, y, o) tuples: {parsed.conversations} valid conversation(s), {len(parsed.problems)} bad line(s)",
            "a tuple needs a user turn, the assistant's answer and the user's next message",
        )

    check_device(device)
    check_model_available(model)
    from simbench.runner.parts import load_model

    policy, tokenizer = load_model(model, device)
    started = time.perf_counter()

    def progress(line: dict[str, Any], total: int) -> None:
        status = f"skipped ({line['reason']})" if line["skipped"] else f"loss={line['loss']:+.4f}"
        print(
            f"step {line['step'] + 1}/{total} {status} A mean={_fmt(line['advantage_mean'])} "
            f"tokens={line['tokens']} {line['seconds']:.1f}s",
            file=sys.stderr, flush=True,
        )

    from sdpo.offline import distill

    try:
        result = distill(
            policy, tokenizer, examples, out, config,
            batch_size=batch_size, epochs=epochs, save_every=save_every, seed=seed, on_step=progress,
        )
    except SDPOError as exc:
        raise InputError(exc.where, exc.problem, exc.hint) from None
    manifest = {
        "conversations": parsed.source,
        "model": model,
        "device": device,
        "k": k,
        "batch_size": batch_size,
        "epochs": epochs,
        "on_error": on_error,
        "max_samples": max_samples,
        "seed": seed,
        "valid_conversations": parsed.conversations,
        "conversations_without_tuples": parsed.without_tuples,
        "skipped_lines": [{"line": p.line, "problem": p.problem} for p in parsed.problems],
        "tuples": len(examples),
        "steps": result.steps,
        "skipped_steps": result.skipped_steps,
        "final_loss": result.final_loss,
        "seconds": round(time.perf_counter() - started, 2),
        "sdpo_config": config.to_dict(),
        "adapter": str(result.adapter_path),
        "checkpoint": str(result.checkpoint_path),
        "training_log": str(result.log_path),
    }
    (out / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    typer.echo(
        f"distill: {len(examples)} tuples from {parsed.conversations} conversations "
        f"({len(parsed.problems)} bad lines skipped); {result.steps} updates "
        f"({result.skipped_steps} skipped), final loss {_fmt(result.final_loss)}, {result.seconds:.1f}s"
    )
    typer.echo(f"wrote {result.adapter_path}, {result.checkpoint_path}, {result.log_path} and {out / MANIFEST}")


def _prepare(conversations: Path, k: int, on_error: str, lr: float, loss: str, seed: int) -> tuple[Any, Any]:
    """Parse the file and build the SDPO config before anything is loaded or written."""
    from sdpo.config import SDPOConfig
    from sdpo.errors import ConfigError
    from sdpo.offline import parse_conversations

    from simbench.logs.safe_load import POOL_BYTES, read_bounded

    where = str(conversations.expanduser())
    raw = read_bounded(conversations.expanduser(), where, POOL_BYTES)
    parsed = parse_conversations(raw.split(b"\n"), k=k, on_error=on_error, source=where)
    try:
        config = SDPOConfig(lr=lr, loss=loss, seed=seed)
    except ConfigError as exc:
        raise InputError(f"--{exc.where.replace('_', '-')}", exc.problem, exc.hint) from None
    return parsed, config


def _fmt(value: float | None) -> str:
    return "n/a" if value is None else f"{value:+.4f}"


def register(app: typer.Typer) -> None:
    app.command("distill")(distill_command)
