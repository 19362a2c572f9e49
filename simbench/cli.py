"""The `simbench` command line: a thin Typer layer over the Python API.

Each command family lives in `simbench/commands/<name>.py` and registers itself here.
Errors a user can fix are printed as one line on stderr, never a traceback, with the exit code
of their class in the one table, `simbench.errors.EXIT_CODES` (bad input: 2). Every command
takes `--plugin MODULE_OR_PATH` (repeatable), imported before the command resolves any name.
"""

from __future__ import annotations

import functools
import importlib
import inspect
import sys
from typing import Any, Callable, Iterator, List, Optional

import click
import typer

from simbench.errors import EXIT_INPUT, EXIT_INTERRUPTED, SimbenchError
from simbench.plugins import load_plugins

COMMAND_MODULES = [
    "simbench.commands.list",
    "simbench.commands.personas",
    "simbench.commands.report",
    "simbench.commands.sweep",
    "simbench.commands.run",
    "simbench.commands.signal",
    "simbench.commands.teachability",
    "simbench.commands.power",
    "simbench.commands.distill",
    "simbench.commands.preset",
    "simbench.commands.schema",
    "simbench.commands.data",
]

app = typer.Typer(
    name="simbench",
    help="Benchmark language models that learn from their users while they talk to them.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

PLUGIN_OPTION = typer.Option(
    None, "--plugin", help="Import a plugin first: a dotted module or a .py file that registers learners, "
    "users, backends, judges or preferences (repeatable). Installed `simbench.plugins` entry points load too.")


def with_plugin_option(callback: Callable[..., Any]) -> Callable[..., Any]:
    """`callback` as a command that also takes `--plugin`, loading the plugins before it runs."""
    signature = inspect.signature(callback)
    plugin = inspect.Parameter("plugin", inspect.Parameter.KEYWORD_ONLY, default=PLUGIN_OPTION,
                               annotation=Optional[List[str]])

    @functools.wraps(callback)
    def wrapper(*args: Any, plugin: Optional[List[str]] = None, **kwargs: Any) -> Any:
        load_plugins(plugin or [])
        return callback(*args, **kwargs)

    wrapper.__signature__ = signature.replace(parameters=[*signature.parameters.values(), plugin])  # type: ignore[attr-defined]
    wrapper.__annotations__ = {**callback.__annotations__, "plugin": Optional[List[str]]}
    return wrapper


def _commands(typer_app: typer.Typer) -> Iterator[Any]:
    yield from typer_app.registered_commands
    for group in typer_app.registered_groups:
        if group.typer_instance is not None:
            yield from _commands(group.typer_instance)


for _module in COMMAND_MODULES:
    importlib.import_module(_module).register(app)
for _info in _commands(app):
    _info.callback = with_plugin_option(_info.callback)


def fail(message: str, code: int) -> None:
    """Print a one-line error on stderr and exit with `code`."""
    print(f"error: {' '.join(str(message).split())}", file=sys.stderr)
    raise SystemExit(code)


# Typer >= 0.20 vendors its own click: its usage errors (unknown option, a value that is not
# an int, a missing argument) are not click's classes, so both families are caught.
_EXITS = (click.exceptions.Exit, typer.Exit)
_ABORTS = (click.exceptions.Abort, typer.Abort)
_USAGE_ERRORS = (click.ClickException, getattr(typer, "TyperException", click.ClickException))


def main(argv: list[str] | None = None) -> None:
    command = typer.main.get_command(app)
    try:
        result = command.main(args=argv, prog_name="simbench", standalone_mode=False)
    except _EXITS as exc:
        raise SystemExit(exc.exit_code) from None
    except (*_ABORTS, KeyboardInterrupt):  # a run handles Ctrl-C itself; any other command stops
        fail("aborted", EXIT_INTERRUPTED)
    except _USAGE_ERRORS as exc:
        fail(exc.format_message(), EXIT_INPUT)
    except SimbenchError as exc:
        fail(str(exc), exc.exit_code)
    if isinstance(result, int) and result:
        raise SystemExit(result)


if __name__ == "__main__":
    main()
