"""`simbench train-preset`: rebuild the feedback-reading adapter of `smollm2-135m-fr`.

Thin layer over `simbench.train_preset`: samples the base model's own answers
to the training prompts, rewrites them per trained preference, trains the LoRA and writes
the adapter folder (peft format + recipe.json). Bad flags exit 2 before the model loads.
"""

from __future__ import annotations

import typer

from simbench.commands.options import SEED_RANGE


def train_preset_command(
    out: str = typer.Option(..., help="Adapter folder to write (the shipped one: sdpo/preset_adapters/smollm2-135m-fr)."),
    seed: int = typer.Option(0, **SEED_RANGE, help="Seed of sampling, rewrites, LoRA init and example order."),
    epochs: int = typer.Option(1, min=1, help="Passes over the recipe's examples."),
    targets: str = typer.Option("rewrite", help="rewrite: the checkers' rewrites (the shipped adapter); self: the "
                                "model's own in-context answers that pass (docs/preset.md)."),
    quiet: bool = typer.Option(False, "--quiet", help="No progress display."),
) -> None:
    """Train the feedback-reading adapter from the base model's own answers (~25 CPU-minutes)."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from simbench import api
    from simbench.commands.console import make_console, quiet_libraries
    from simbench.runner.preflight import out_path

    console = make_console(stderr=True)
    bar = Progress(TextColumn("[bold]{task.description}"), MofNCompleteColumn(), BarColumn(), TimeElapsedColumn(),
                   console=console, disable=quiet)
    tasks: dict[str, int] = {}

    def progress(stage: str, done: int, total: int) -> None:
        if not tasks:  # the first stage: every input was checked, so the bar can show
            bar.start()
        if stage not in tasks:
            tasks[stage] = bar.add_task(stage, total=total)
        bar.update(tasks[stage], completed=done)

    try:
        with quiet_libraries(quiet):
            record = api.train_preset(out, seed=seed, epochs=epochs, targets=targets, progress=progress)
    finally:
        if tasks:
            bar.stop()
    typer.echo(f"wrote {out_path(out)} (recipe {record['digest']}, {sum(record['examples'].values())} examples, "
               f"loss {record['epoch_losses'][-1]}, {record['seconds']:.0f} s)")


def register(app: typer.Typer) -> None:
    app.command("train-preset")(train_preset_command)
