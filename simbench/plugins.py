"""Outside code that registers learners, users, backends, judges or preferences.

A plugin is a module that registers entries when imported (see simbench/extend.py). It comes
from `--plugin MODULE_OR_PATH` (a dotted module name, or a `.py` file) or from an installed
package's `simbench.plugins` entry point. Each loads once per process; a plugin that fails to
import is a one-line InputError naming it. `--plugin` plugins are recorded in the run config
(`plugins`), so a resumed run, a sweep cell and a Ray worker import them before building.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import sys
from importlib import metadata
from pathlib import Path
from typing import Iterable

from simbench.errors import InputError

GROUP = "simbench.plugins"
"""The entry-point group installed packages register through (each names a module)."""

_loaded: dict[str, str] = {}  # normalised spec -> module name, in load order
_installed = {"state": "pending"}  # pending | loading | done


def normalise(spec: str) -> str:
    """A `.py` path as an absolute path (what a worker in another folder can import); a
    dotted module name as it is."""
    return str(Path(spec).expanduser().resolve()) if _is_path(spec) else spec


def _is_path(spec: str) -> bool:
    return spec.endswith(".py") or "/" in spec or "\\" in spec


def load_plugin(spec: str, where: str = "--plugin") -> str:
    """Import plugin `spec` (once) and return its normalised form."""
    key = normalise(spec)
    if key in _loaded:
        return key
    load_installed()  # an installed plugin registers first, as it would in any other process
    try:
        _loaded[key] = _import_file(Path(key), where) if _is_path(spec) else importlib.import_module(key).__name__
    except InputError:
        raise
    except Exception as exc:  # noqa: BLE001 - any failure of outside code is the plugin's
        raise InputError(where, f"plugin {spec!r} failed to load: {_one_line(exc)}",
                         "fix the plugin, or check the module name or file path") from None
    return key


def load_plugins(specs: Iterable[str], where: str = "--plugin") -> list[str]:
    """Import every plugin of `specs` in order; their normalised forms."""
    return [load_plugin(spec, where) for spec in specs]


def loaded_plugins() -> list[str]:
    """The `--plugin` plugins this process loaded, normalised, in load order (what a run
    config records)."""
    return list(_loaded)


def load_installed() -> None:
    """Import the modules named in the `simbench.plugins` entry-point group, once."""
    if _installed["state"] != "pending":
        return
    _installed["state"] = "loading"  # a plugin that looks up a registry must not recurse here
    try:
        for entry in metadata.entry_points(group=GROUP):
            try:
                importlib.import_module(entry.value.split(":", 1)[0])
            except Exception as exc:  # noqa: BLE001 - as for --plugin
                dist = getattr(entry.dist, "name", None) or "an installed package"
                raise InputError(f"entry point {entry.name!r} ({GROUP}, from {dist})",
                                 f"plugin {entry.value!r} failed to load: {_one_line(exc)}",
                                 f"fix or uninstall {dist}") from None
    finally:
        _installed["state"] = "done"


def _import_file(path: Path, where: str) -> str:
    if not path.is_file():
        raise InputError(where, f"plugin file not found: {path}", "give a .py file or a dotted module name")
    # A name unique to the file, registered in sys.modules first, so classes it defines
    # pickle (Ray) and a second `--plugin` of the same file is the same module.
    name = f"simbench_plugin_{path.stem}_{hashlib.sha256(str(path).encode()).hexdigest()[:8]}"
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise InputError(where, f"cannot import plugin {path}", "give a .py file or a dotted module name")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[name]
        raise
    return name


def _one_line(exc: BaseException) -> str:
    return " ".join(f"{type(exc).__name__}: {exc}".split())
