"""docs/cli.md is the CLI reference rendered from the Typer app: a flag added or changed
without regenerating the page fails here, with the one command that regenerates it."""

from __future__ import annotations

from pathlib import Path

from simbench.commands.reference import REGENERATE, render

REPO = Path(__file__).resolve().parents[2]


def test_docs_cli_md_matches_the_command_line():
    committed = (REPO / "docs" / "cli.md").read_text(encoding="utf-8")
    assert committed == render(), f"docs/cli.md is out of date: run `{REGENERATE}` to update"


def test_the_reference_covers_every_command_and_flag_of_run():
    import typer

    from simbench.cli import app

    page = render()
    root = typer.main.get_command(app)
    for name in root.commands:
        assert f"## `simbench {name}" in page, name
    for flag in ("--persona", "--learner", "--device", "--backend", "--user-option", "--judge-option"):
        assert f"| `{flag} " in page, flag
