"""`--user-option` / `--judge-option` settings checked against the constructor they build: its
keywords (a missing or misspelt key is one line naming the flag and the key, never Python's
"__init__() missing 2 required positional arguments") and the type each one declares.

KEY=VALUE values arrive as whatever JSON (or the `--config` file) made of them: `"abc"` for a
float, `7` for a model name. Converting them against the constructor's annotations before it
runs turns "'<' not supported between instances of 'str' and 'int'" into one line naming
the flag and the option.
"""

from __future__ import annotations

import inspect
import math
import re
import types
import typing
from typing import Any, Callable, Iterable, Mapping

from simbench.errors import InputError
from simbench.registry import suggest

_INTEGER = re.compile(r"^[+-]?[0-9]{1,18}$")
_NAMES = {int: "an integer", float: "a number", bool: "true or false", str: "text"}


def checked_options(flag: str, owner: str, build: Callable[..., Any], options: Mapping[str, Any]) -> dict[str, Any]:
    """`options` with their keys checked (`check_keywords`) and values converted (`typed_options`)."""
    check_keywords(flag, owner, build, options)
    return typed_options(flag, owner, build, options)


def check_keywords(flag: str, owner: str, build: Callable[..., Any], options: Mapping[str, Any],
                   supplied: Iterable[str] = ()) -> None:
    """Every required keyword of `build` is in `options` and every key of `options` is one of
    its keywords; `supplied` are the keywords simbench fills in itself (not the user's to set).

    `owner` names what is built ("judge 'openai'"); the errors name `flag` and the key."""
    parameters = inspect.signature(build).parameters
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values()):
        return  # it takes any key: only the class itself can judge them
    settable = [name for name, p in parameters.items()
                if name not in ("self", "cls") and name not in set(supplied)
                and p.kind in (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)]
    for key in options:
        if key not in settable:
            raise InputError(flag, f"{owner} has no option {key!r}", suggest(key, settable))
    missing = [name for name in settable
               if parameters[name].default is inspect.Parameter.empty and name not in options]
    if missing:
        keys = ", ".join(missing)
        example = " ".join(f"{flag} {name}=..." for name in missing)
        raise InputError(flag, f"{owner} needs {keys}", f"add {example}")


def typed_options(flag: str, owner: str, build: Callable[..., Any], options: Mapping[str, Any]) -> dict[str, Any]:
    """`options` with each value converted to its annotated type (int, float, bool, str, or an
    Optional of one); a value that cannot be is an `InputError` naming `flag KEY`. Options
    without such an annotation pass through (the constructor checks them)."""
    try:
        hints = typing.get_type_hints(build)
    except Exception:  # an annotation that does not resolve: leave every value to the constructor
        return dict(options)
    typed = {}
    for key, value in options.items():
        kinds, optional = _kinds(hints.get(key))
        if not kinds or (value is None and optional):
            typed[key] = value
            continue
        for kind in kinds:
            converted = _convert(value, kind)
            if converted is not _NO:
                typed[key] = converted
                break
        else:
            need = " or ".join(_NAMES[kind] for kind in kinds) + (" or null" if optional else "")
            raise InputError(f"{flag} {key}", f"{owner}: must be {need}, got {value!r}")
    return typed


def _kinds(hint: Any) -> tuple[list[type], bool]:
    """The convertible types a hint allows, and whether it allows None; ([], _) for others."""
    if hint in _NAMES:
        return [hint], False
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        args = typing.get_args(hint)
        kinds = [arg for arg in args if arg in _NAMES]
        if len(kinds) == len([arg for arg in args if arg is not type(None)]):
            return kinds, type(None) in args
    return [], False


_NO = object()


def _convert(value: Any, kind: type) -> Any:
    """`value` as `kind`, or _NO. A bool is never a number; text converts where it reads as
    the type ("0.5", "true"); an integer reads as text (a model named 7)."""
    if kind is bool:
        if isinstance(value, bool):
            return value
        return {"true": True, "false": False}.get(value.lower(), _NO) if isinstance(value, str) else _NO
    if kind is str:
        if isinstance(value, str):
            return value
        return str(value) if isinstance(value, int) and not isinstance(value, bool) else _NO
    if isinstance(value, bool):
        return _NO
    if kind is int:
        if isinstance(value, int):
            return value
        if isinstance(value, str) and _INTEGER.match(value.strip()):
            return int(value)
        return _NO
    if not isinstance(value, (int, float, str)):
        return _NO
    try:
        number = float(value)
    except (ValueError, OverflowError):
        return _NO
    return number if math.isfinite(number) else _NO
