"""Name -> implementation registries for the extension points (users, backends, learners,
judges, executors, preferences).

Entries are registered by decorator or lazily as "module:attr" strings, so listing the
names never imports torch, vllm or openai. An unknown name raises `InputError` with the
closest registered name as a suggestion; registering a name twice raises `ValueError`
(a second plugin silently shadowing the first would change what a run measures).

Every registered object builds itself: the Protocol of each kind declares a
`from_config(context)` class method (see users/base.py, backends/base.py, learners/base.py),
so the runner never switches on names. Installed plugins (the `simbench.plugins` entry-point
group, simbench/plugins.py) are imported the first time any registry is asked for a name, so
their entries are there before a name is resolved.
"""

from __future__ import annotations

import difflib
import importlib
from typing import Callable, Generic, TypeVar

from simbench.errors import InputError
from simbench.plugins import load_installed

T = TypeVar("T")


class Registry(Generic[T]):
    """A registry of factories of one kind ("user simulator", "learner", ...)."""

    def __init__(self, kind: str, flag: str | None = None) -> None:
        self.kind = kind
        self.flag = flag or kind
        self._entries: dict[str, T | str] = {}

    def register(self, name: str) -> Callable[[T], T]:
        """Decorator: register `obj` under `name`."""

        def decorate(obj: T) -> T:
            self._claim(name, obj)
            self._entries[name] = obj
            return obj

        return decorate

    def register_lazy(self, name: str, target: str) -> None:
        """Register "package.module:attr", imported on first `get(name)`."""
        if ":" not in target:
            raise ValueError(f"lazy target must be 'module:attr', got {target!r}")
        self._claim(name, target)
        self._entries[name] = target

    def _claim(self, name: str, entry: object) -> None:
        """Refuse a second registration of `name` (re-registering the very same entry, e.g. a
        module imported twice under the same name, is allowed)."""
        current = self._entries.get(name)
        if current is None or current is entry or current == entry:
            return
        if isinstance(current, str) and not isinstance(entry, str) and _target_of(entry) == current:
            return  # the lazy entry's own object, registered by decorator on import
        raise ValueError(f"{self.kind} {name!r} is registered twice: {_describe(current)} and {_describe(entry)}")

    def names(self) -> list[str]:
        load_installed()
        return sorted(self._entries)

    def __contains__(self, name: object) -> bool:
        load_installed()
        return name in self._entries

    def target(self, name: str) -> T | str:
        """The registered object, or its "module:attr" string if not imported yet (no import)."""
        load_installed()
        if name not in self._entries:
            raise InputError(self.flag, f"unknown {self.kind} {name!r}", suggest(name, self.names()))
        return self._entries[name]

    def get(self, name: str) -> T:
        load_installed()
        if name not in self._entries:
            raise InputError(self.flag, f"unknown {self.kind} {name!r}", suggest(name, self.names()))
        entry = self._entries[name]
        if isinstance(entry, str):
            module_name, attr = entry.split(":", 1)
            entry = getattr(importlib.import_module(module_name), attr)
            self._entries[name] = entry
        return entry  # type: ignore[return-value]


def _target_of(obj: object) -> str:
    return f"{getattr(obj, '__module__', '?')}:{getattr(obj, '__qualname__', '?')}"


def _describe(entry: object) -> str:
    if isinstance(entry, str):
        return entry
    # a class or function names itself; a plain object (a Preference) by its type
    return _target_of(entry) if hasattr(entry, "__qualname__") else f"a {type(entry).__name__} object"


def suggest(name: str, choices: list[str], list_when_close: bool = True) -> str:
    """The one "did you mean" hint of simbench: the closest choice, and the list of choices
    (left out after a close match when `list_when_close` is false, for long lists such as
    preference ids or persona fields)."""
    close = closest(name, choices)
    listing = f"choices: {', '.join(choices)}"
    if close is None:
        return listing
    return f"did you mean {close!r}?" + (f" {listing}" if list_when_close else "")


def closest(name: str, choices: list[str]) -> str | None:
    """The choice most like `name`, or None when none is close enough to suggest."""
    close = difflib.get_close_matches(name, choices, n=1, cutoff=0.5)
    return close[0] if close else None
