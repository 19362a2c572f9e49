"""CLI command families. Each module exposes `register(app: typer.Typer) -> None`."""
