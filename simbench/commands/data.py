"""`simbench data`: the paper's data sets as prompt pools and `simbench distill` input.

Thin layer over `simbench.api.convert_data`: one subcommand per data set, each taking a hub
id or a local json/jsonl/parquet file or folder, and `--out` for the JSONL it writes.
"""

from __future__ import annotations

from typing import Optional

import typer

KINDS = {
    "helpsteer2": "HelpSteer2 prompts as a prompt pool (id, text, category)",
    "tldr": "TL;DR Reddit posts as a pool of summarisation prompts",
    "wildchat": "WildChat conversations as `simbench distill` input",
    "wildfeedback": "WildFeedback conversations (satisfaction labels kept) as `simbench distill` input",
}
HUB_IDS = {"helpsteer2": "nvidia/HelpSteer2", "tldr": "trl-lib/tldr",
           "wildchat": "allenai/WildChat-1M", "wildfeedback": "microsoft/WildFeedback"}


def _command(name: str):
    def command(
        src: str = typer.Argument(..., help=f"Hub id (e.g. {HUB_IDS[name]}) or a local json/jsonl/parquet file or folder."),
        out: str = typer.Option(..., help="JSONL file to write (atomically; nothing on error)."),
        split: str = typer.Option("train", help="Split of a hub data set (local files are read whole)."),
        limit: Optional[int] = typer.Option(None, min=1, help="Write at most N items (in source order)."),
    ) -> None:
        from simbench.api import convert_data

        done = convert_data(name, src, out, split=split, limit=limit)
        typer.echo(f"data {name}: {done.written} written to {done.out} from {done.rows} rows "
                   f"({done.left_out} left out, {done.duplicates} duplicates)")

    command.__doc__ = f"Convert {KINDS[name]}."
    return command


def register(app: typer.Typer) -> None:
    data_app = typer.Typer(help="Convert the paper's data sets into simbench inputs.", no_args_is_help=True)
    for name in KINDS:
        data_app.command(name)(_command(name))
    app.add_typer(data_app, name="data")
