"""`simbench personas`: list, validate and show persona files, and print their JSON Schema.

Arguments take a persona file path or a shipped persona id ("concise"). Bad input raises
`InputError`, which `simbench.cli.main` prints as one line on stderr with exit code 2.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, List

import typer
from rich.markup import escape

if TYPE_CHECKING:
    from simbench.persona.engine import PersonaEngine
    from simbench.persona.spec import Persona

personas_app = typer.Typer(
    help="List, validate and inspect personas (simulated users and their preference schedules).",
    no_args_is_help=True,
)

TIMELINE_WIDTH = 60
# Marks a judge-scored (rubric) wish in `personas show`; a checker decides the others.
JUDGE_MARK = "(judge)"


def register(app: typer.Typer) -> None:
    """Add the `personas` command family to the top-level app."""
    app.add_typer(personas_app, name="personas")


@personas_app.command("list")
def list_personas() -> None:
    """Table of the shipped personas: id and name, scenario, phases, episode length, noise."""
    from rich import box
    from rich.table import Table

    from simbench import personas as api
    from simbench.commands.console import make_console
    from simbench.paths import DEFAULT_PERSONA
    from simbench.persona.engine import PersonaEngine

    table = Table(
        title="shipped personas (personas/)",
        caption="T: interactions per episode; noise: share of irrelevant follow-ups",
        box=box.SIMPLE_HEAD,
    )
    personas = api.list()
    # Ids never break across lines (scripts grep them); names and phases wrap instead.
    table.add_column("persona", min_width=max(len(p.id) for p in personas))
    table.add_column("scenario", no_wrap=True)
    table.add_column("phases", min_width=24)
    table.add_column("T", justify="right", no_wrap=True)
    table.add_column("noise", justify="right", no_wrap=True)
    for persona in personas:
        marker = " (default)" if persona.source.stem == DEFAULT_PERSONA else ""
        table.add_row(
            f"[bold]{persona.id}[/bold]\n[dim]{escape(persona.name)}{marker}[/dim]",
            PersonaEngine(persona).scenario(),
            phases_text(persona),
            str(persona.interactions),
            f"{persona.noise.irrelevant_rate:g}",
        )
    make_console().print(table)


@personas_app.command("validate")
def validate(files: List[str] = typer.Argument(
    ..., help="Persona files, folders of persona files (*.yaml, *.yml) or shipped persona ids.")) -> None:
    """Validate persona files (schema, schedule rules, prompt pools): one line per file, every
    bad one reported on stderr; exit 2 at the end when any was bad."""
    from simbench import personas as api
    from simbench.errors import EXIT_INPUT, InputError

    bad: list[InputError] = []

    def valid(path: Path, persona: Persona) -> None:
        for warning in persona.warnings():
            typer.echo(f"warning: {path}: {warning}", err=True)
        typer.echo(f"ok {path} ({persona.id}: {len(persona.schedule)} phase(s), {persona.interactions} interactions)")

    def invalid(error: InputError) -> None:
        bad.append(error)
        typer.echo(f"error: {error}", err=True)

    api.validate(files, on_valid=valid, on_error=invalid)
    if bad:
        raise typer.Exit(EXIT_INPUT)


@personas_app.command("show")
def show(file: str = typer.Argument(..., help="A persona file or shipped persona id.")) -> None:
    """Timeline of a persona's preferences over the episode, one row per preference."""
    from rich.table import Table

    from simbench import personas as api
    from simbench.commands.console import make_console
    from simbench.persona.engine import PersonaEngine

    persona = api.show(file)
    engine = PersonaEngine(persona)
    console = make_console()
    # Printed as separate lines that the console may wrap, never crop.
    console.print(f"[bold]{persona.id}[/bold]: {escape(persona.name)}", overflow="fold")
    console.print(
        f"scenario {engine.scenario()}, {persona.interactions} interactions, "
        f"irrelevant follow-ups {persona.noise.irrelevant_rate:g}",
        overflow="fold",
    )
    console.print(escape(persona.background.strip()), style="dim")
    spans = {pid: spans_text(engine, pid) for pid in engine.ever()}
    # Fit the bar into the terminal next to the other two columns (borders and padding: ~10).
    pid_width = max(len("preference"), *(len(preference_label(persona, pid)) for pid in spans))
    span_width = max(len("active during"), *map(len, spans.values()))
    room = console.width - pid_width - span_width - 10
    width = max(1, min(TIMELINE_WIDTH, persona.interactions, room))
    table = Table(show_edge=False)
    table.add_column("preference", no_wrap=True)
    table.add_column(axis_text(engine, width), no_wrap=True)
    table.add_column("active during\n(interactions)", no_wrap=True)
    for pid in engine.ever():
        table.add_row(preference_label(persona, pid), timeline_bar(engine, pid, width), spans[pid])
    console.print(table)
    for pid in engine.ever():
        console.print(f"  [bold]{preference_label(persona, pid)}[/bold]: "
                      f"{escape(persona.preference(pid).description)}")
    if any(not persona.preference(pid).verifiable for pid in engine.ever()):
        console.print(f"{JUDGE_MARK}: scored by an LLM judge's rubric (run with --judge; without one it is not "
                      "scored)", overflow="fold")


@personas_app.command("schema")
def schema() -> None:
    """Print the JSON Schema of persona files."""
    from simbench import personas as api

    typer.echo(json.dumps(api.schema(), indent=2))


def preference_label(persona: Persona, pid: str) -> str:
    """`pid`, followed by JUDGE_MARK when an LLM judge scores it (a rubric, no checker)."""
    return pid if persona.preference(pid).verifiable else f"{pid} {JUDGE_MARK}"


def phases_text(persona: Persona) -> str:
    """One line per phase: the first lists its preferences, later ones what changed.

    e.g. '0: no-emojis' / '15: +no-filler-praise' / '30: +no-lists -no-emojis'.
    """
    lines: list[str] = []
    previous: list[str] = []
    for phase in persona.schedule:
        if not previous:
            change = ", ".join(phase.preferences)
        else:
            added = [f"+{p}" for p in phase.preferences if p not in previous]
            dropped = [f"-{p}" for p in previous if p not in phase.preferences]
            change = " ".join(added + dropped)
        lines.append(f"{phase.at}: {change}")
        previous = phase.preferences
    return "\n".join(lines)


def cell_start(cell: int, width: int, interactions: int) -> int:
    """First interaction a timeline cell covers when `interactions` are drawn in `width` cells."""
    return cell * interactions // width


def timeline_bar(engine: PersonaEngine, pid: str, width: int) -> str:
    """A bar of `width` cells: '█' where `pid` is active at the cell's first interaction."""
    interactions = engine.persona.interactions
    cells = (engine.active(cell_start(c, width, interactions)) for c in range(width))
    return "".join("█" if pid in active else "·" for active in cells)


def axis_text(engine: PersonaEngine, width: int) -> str:
    """Header of the timeline column: '|' at each phase start, 0 and the episode length at the ends."""
    interactions = engine.persona.interactions
    cells = [" "] * width
    for start in (0, *engine.switch_points()):
        # The first cell whose start is >= the phase start: where that phase's bar begins.
        cells[min(width - 1, -(-start * width // interactions))] = "|"
    # "0" under the left end and T under the right one; the unit is in the column below.
    end = str(interactions)
    label = "0" + end.rjust(width - 1) if width > len(end) else end[:width]
    return "".join(cells) + "\n" + label


def spans_text(engine: PersonaEngine, pid: str) -> str:
    """Interaction ranges during which `pid` is active, e.g. '0-29, 45-59'."""
    spans: list[list[int]] = []
    for k, (start, end) in enumerate(engine.phase_bounds()):
        if pid not in engine.persona.schedule[k].preferences:
            continue
        if spans and spans[-1][1] == start - 1:
            spans[-1][1] = end - 1
        else:
            spans.append([start, end - 1])
    return ", ".join(f"{a}-{b}" for a, b in spans)
