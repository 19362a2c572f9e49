"""A process state without plugins, for tests that load one (importable as `plugin_sandbox`).

`with sandbox():` forgets which plugins (and installed entry points) this process loaded and
puts every registry back to its built-ins, before and after the block, so a plugin's
registrations never leak into other tests. `fresh_process()` forgets again mid-test: what a
new process (a Ray worker, a later `--resume`) starts from.
"""

from __future__ import annotations

import sys
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import simbench.plugins as plugins
from simbench.backends import BACKENDS
from simbench.judge import JUDGES
from simbench.learners import LEARNERS
from simbench.persona.library import PREFERENCES
from simbench.users import USERS

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "plugins" / "outside_arm.py"
REGISTRIES = (LEARNERS, USERS, BACKENDS, JUDGES, PREFERENCES)
_BUILTINS = {registry: dict(registry._entries) for registry in REGISTRIES}
_BUILTIN_FEEDBACK = set(LEARNERS._feedback_driven)


def fresh_process() -> None:
    """Unload every plugin: registries back to their built-ins, plugin modules forgotten."""
    for registry, entries in _BUILTINS.items():
        registry._entries.clear()  # in place: persona.library.BUILTIN is a live view of it
        registry._entries.update(entries)
    LEARNERS._feedback_driven.intersection_update(_BUILTIN_FEEDBACK)
    LEARNERS._twins.clear()
    plugins._loaded.clear()
    plugins._installed["state"] = "pending"
    for name in [n for n in sys.modules if n.startswith("simbench_plugin_") or n == "outside_arm"]:
        del sys.modules[name]


@contextmanager
def sandbox() -> Iterator[None]:
    before = plugins._installed["state"]
    fresh_process()
    try:
        yield
    finally:
        fresh_process()
        plugins._installed["state"] = before
