"""Checks `--judge-option` / `--user-option` KEY=VALUE settings against the keyword arguments
of the class they build, so a missing or misspelt key is one line naming the flag and the
key, never Python's "__init__() missing 2 required positional arguments".
"""

from __future__ import annotations

import inspect
from typing import Any, Callable, Iterable, Mapping

from simbench.errors import InputError
from simbench.registry import suggest


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
