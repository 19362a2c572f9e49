"""`simbench distill`: offline SDPO from logged conversations (JSONL, one message list per line)
into a LoRA adapter, with a JSONL training log and the manifest distill.json.

Malformed lines are reported with their line numbers and skipped (`--on-error skip`) or
rejected (`--on-error reject`: exit 2 and nothing written). Thin layer over
`simbench.api.distill`: this module parses flags and prints progress.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, Optional

import typer

from simbench.commands.options import SEED_RANGE
from simbench.run_defaults import default_of


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
    seed: int = typer.Option(0, **SEED_RANGE, help="Seed for shuffling and LoRA initialisation."),
    device: str = typer.Option(default_of("device"), help="Torch device."),
) -> None:
    """Distill the follow-ups in logged conversations into the model with SDPO (LoRA)."""
    from simbench.api import distill

    def progress(line: dict[str, Any], total: int) -> None:
        status = f"skipped ({line['reason']})" if line["skipped"] else f"loss={line['loss']:+.4f}"
        print(
            f"step {line['step'] + 1}/{total} {status} A mean={_fmt(line['advantage_mean'])} "
            f"tokens={line['tokens']} {line['seconds']:.1f}s",
            file=sys.stderr, flush=True,
        )

    done = distill(
        conversations, out, model=model, device=device, k=k, batch_size=batch_size, epochs=epochs,
        lr=lr, loss=loss, on_error=on_error, max_samples=max_samples, save_every=save_every,
        seed=seed, on_step=progress, on_problem=lambda line: print(f"warning: {line}", file=sys.stderr),
    )
    result = done.result
    typer.echo(
        f"distill: {result.examples} tuples from {done.conversations} conversations "
        f"({done.bad_lines} bad lines skipped); {result.steps} updates "
        f"({result.skipped_steps} skipped), final loss {_fmt(result.final_loss)}, {result.seconds:.1f}s"
    )
    typer.echo(f"wrote {result.adapter_path}, {result.checkpoint_path}, {result.log_path} and "
               f"{result.adapter_path.parent / 'distill.json'}")


def _fmt(value: float | None) -> str:
    return "n/a" if value is None else f"{value:+.4f}"


def register(app: typer.Typer) -> None:
    app.command("distill")(distill_command)
