"""The CLI reference page (`docs/cli.md`), rendered from the Typer app itself so it cannot
drift from the flags: every command's usage, help, arguments and options, in command order.

Regenerate with `python -m simbench.commands.reference > docs/cli.md`. The text depends on
nothing but the app (no terminal width, no colours); a test fails when the file differs.
Not a command family: `simbench.cli` does not register it.
"""

from __future__ import annotations

import inspect
import sys

import typer

REGENERATE = "python -m simbench.commands.reference > docs/cli.md"

HEADER = f"""# CLI reference

Every `simbench` command with its arguments and options, generated from the command line
itself (`{REGENERATE}`); `simbench COMMAND --help` prints the same.
Every bad flag or value is one line naming the flag, exit code 2, and nothing is written.
"""


def render() -> str:
    """The whole page as markdown."""
    from simbench.cli import app

    root = typer.main.get_command(app)
    found = _commands(root, root.context_class(root, info_name="simbench"), "simbench")
    return "\n".join([HEADER, *(_section(*entry) for entry in found)])


def _commands(command, context, name: str):
    """(full name, command, context) for `command` and everything under it, depth first, in
    listing order; groups too, since options given before a subcommand live on its group."""
    yield name, command, context
    for sub_name in getattr(command, "list_commands", lambda _: [])(context):
        sub = command.get_command(context, sub_name)
        if sub is not None and not sub.hidden:
            yield from _commands(sub, sub.context_class(sub, info_name=sub_name, parent=context),
                                 f"{name} {sub_name}")


def _section(name: str, command, context) -> str:
    usage = " ".join([name, *command.collect_usage_pieces(context)])
    lines = [f"## `{name}`", "", inspect.cleandoc(command.help or ""), "", "```text", usage, "```", ""]
    arguments = [p for p in command.params if p.param_type_name == "argument"]
    options = [p for p in command.params if p.param_type_name == "option" and not p.hidden]
    if arguments:
        lines += ["| argument | help |", "|---|---|"]
        lines += [_row(p, context) for p in arguments]
        lines.append("")
    if options:
        lines += ["| option | help |", "|---|---|"]
        lines += [_row(p, context) for p in options]
        lines.append("")
    return "\n".join(lines)


def _row(parameter, context) -> str:
    declaration, help_text = parameter.get_help_record(context)
    return f"| `{declaration}` | {_cell(help_text)} |"


def _cell(text: str) -> str:
    """One markdown table cell: one line, pipes escaped."""
    return " ".join(text.split()).replace("|", "\\|")


if __name__ == "__main__":
    sys.stdout.buffer.write(render().encode("utf-8"))  # UTF-8 whatever the locale
