"""`--user-option` / `--judge-option` values converted to the type their constructor declares.

KEY=VALUE values arrive as whatever JSON (or the `--config` file) made of them: `"abc"` for a
float, `7` for a model name. Converting them against the constructor's annotations before it
runs turns "'<' not supported between instances of 'str' and 'int'" into one line naming
the flag and the option.
"""

from __future__ import annotations

import math
import re
import types
import typing
from typing import Any, Callable, Mapping

from simbench.errors import InputError

_INTEGER = re.compile(r"^[+-]?[0-9]{1,18}$")
_NAMES = {int: "an integer", float: "a number", bool: "true or false", str: "text"}


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
