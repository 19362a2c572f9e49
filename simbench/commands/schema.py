"""`simbench schema KIND`: the JSON Schema of a run folder's files, of the run settings, of a
run summary or of a leaderboard.json. Thin layer over `simbench.schema`.

`manifest` is manifest.json; `config` the run settings (`--config FILE`); `interaction`,
`update`, `probe`, `general` and `signal` one line of the matching JSONL log; `summary` what
reports read of one run (`simbench.metrics.run_summary.RunSummary`); `leaderboard` a
leaderboard.json.
"""

from __future__ import annotations

import json

import typer


def schema_command(
    # Spelled out (simbench.schemas.KINDS, checked by a test) so building the CLI loads no models.
    kind: str = typer.Argument(
        ..., help="manifest | config | interaction | update | probe | general | signal | summary | leaderboard."),
) -> None:
    """Print the JSON Schema of a run-folder file, the run settings, a run summary or a leaderboard."""
    from simbench import api

    typer.echo(json.dumps(api.schema(kind), indent=2))


def register(app: typer.Typer) -> None:
    app.command("schema")(schema_command)
