"""The names each run flag accepts (learners, users, backends, personas, models), each with one
line of description: what `simbench list` and `simbench.list_names` show.

Descriptions are the first docstring line of each registered implementation, read from its
source with `ast`, so listing never imports a backend (and with it torch, vLLM or openai).
"""

from __future__ import annotations

import ast
import importlib.util
import inspect

import simbench.backends
import simbench.learners
import simbench.users
from sdpo.models import KNOWN_MODELS
from sdpo.presets import KNOWN_PRESETS
from simbench.errors import InputError
from simbench.paths import DEFAULT_PERSONA, shipped_personas
from simbench.persona.engine import PersonaEngine
from simbench.persona.loader import load_persona
from simbench.registry import suggest

KINDS = ("learners", "users", "backends", "personas", "models")


def first_doc_line(doc: str | None) -> str:
    lines = (doc or "").strip().splitlines()
    return " ".join(lines[0].split()) if lines else ""


def source_docstring(target: str) -> str:
    """First docstring line of "module:attr", parsed from the module's file without importing it."""
    module_name, attr = target.split(":", 1)
    spec = importlib.util.find_spec(module_name)
    if spec is None or not spec.origin or not spec.origin.endswith(".py"):
        return ""
    with open(spec.origin, encoding="utf-8") as handle:
        tree = ast.parse(handle.read(), filename=spec.origin)
    for node in tree.body:
        if isinstance(node, (ast.ClassDef, ast.FunctionDef)) and node.name == attr:
            return first_doc_line(ast.get_docstring(node))
    return ""


def registry_rows(kind: str) -> list[tuple[str, str]]:
    """(name, description) of every entry of the learner, user or backend registry."""
    registry = {
        "learners": simbench.learners.LEARNERS,
        "users": simbench.users.USERS,
        "backends": simbench.backends.BACKENDS,
    }[kind]
    rows = []
    for name in registry.names():
        target = registry.target(name)
        doc = source_docstring(target) if isinstance(target, str) else first_doc_line(inspect.getdoc(target))
        rows.append((name, doc))
    return rows


def persona_rows() -> list[tuple[str, str]]:
    """(id, name + schedule summary) of every shipped persona."""
    rows = []
    for path in shipped_personas():
        persona = load_persona(path, check_prompts=False)
        default = ", default" if path.stem == DEFAULT_PERSONA else ""
        summary = f"{PersonaEngine(persona).scenario()}, {persona.interactions} interactions{default}"
        rows.append((persona.id, f"{persona.name} ({summary})"))
    return rows


def model_rows() -> list[tuple[str, str]]:
    """(short name, what it is) of every model `--model` knows by name, presets included."""
    rows = [(name, f"{source.filename} from the {source.install.split()[-1]} package")
            for name, source in KNOWN_MODELS.items()]
    rows += [(name, f"preset: {preset.base} + shipped adapter; {preset.summary}") for name, preset in KNOWN_PRESETS.items()]
    return rows


def rows_for(kind: str) -> list[tuple[str, str]]:
    if kind == "models":
        return model_rows()
    return persona_rows() if kind == "personas" else registry_rows(kind)


def catalogue(kind: str | None = None) -> dict[str, list[tuple[str, str]]]:
    """(name, description) rows of `kind`, or of every kind (in `KINDS` order) when None."""
    if kind is not None and kind not in KINDS:
        raise InputError("KIND", f"unknown kind {kind!r}", suggest(kind, list(KINDS)))
    return {name: rows_for(name) for name in ([kind] if kind else KINDS)}
