"""`simbench schema KIND`: the JSON Schema of a run folder's files, or of the run settings.

`manifest` is manifest.json; `config` the run settings (`--config FILE`); `interaction`,
`update`, `probe`, `general` and `signal` one line of the matching JSONL log.
"""

from __future__ import annotations

import json

import typer

from simbench.errors import InputError

KINDS = ("manifest", "config", "interaction", "update", "probe", "general", "signal")


def schema_command(
    kind: str = typer.Argument(..., help=" | ".join(KINDS) + "."),
) -> None:
    """Print the JSON Schema of a run-folder file (manifest, a log record) or of the run settings."""
    from simbench.config import RunConfig
    from simbench.logs import schema
    from simbench.registry import suggest

    models = {
        "manifest": schema.Manifest, "config": RunConfig, "interaction": schema.InteractionRecord,
        "update": schema.UpdateLogRecord, "probe": schema.ProbeRecord,
        "general": schema.GeneralRecord, "signal": schema.SignalRecord,
    }
    if kind not in models:
        raise InputError("KIND", f"unknown schema {kind!r}", suggest(kind, list(KINDS)))
    typer.echo(json.dumps(models[kind].model_json_schema(), indent=2))


def register(app: typer.Typer) -> None:
    app.command("schema")(schema_command)
