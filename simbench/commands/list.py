"""`simbench list [learners|users|backends|personas|models]`: the names each flag accepts, one
line each. Thin layer over `simbench.list_names` (simbench/catalogue.py).
"""

from __future__ import annotations

from typing import Optional

import typer


def list_command(
    kind: Optional[str] = typer.Argument(None, help="learners | users | backends | personas | models [default: all]."),
) -> None:
    """List the learners, users, backends, personas and models a run can name, with one line each."""
    from simbench import api

    kinds = api.list_names(kind)
    for number, (name, rows) in enumerate(kinds.items()):
        width = max((len(row_name) for row_name, _ in rows), default=0)
        if len(kinds) > 1:
            typer.echo(("\n" if number else "") + f"{name}:")
        indent = "  " if len(kinds) > 1 else ""
        for row_name, description in rows:
            typer.echo(f"{indent}{row_name.ljust(width)}  {description}".rstrip())


def register(app: typer.Typer) -> None:
    app.command("list")(list_command)
