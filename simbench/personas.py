"""Personas as `simbench personas` sees them, for Python: `simbench.personas.list()`,
`.validate(refs)`, `.show(ref)` and `.schema()`, each the data its command prints.

A ref is a persona file, a shipped persona id ("concise") or, for `validate`, a folder of
persona files. Bad input raises `InputError` naming the file or field.
"""

from __future__ import annotations

import builtins
from pathlib import Path
from typing import Any, Callable, Sequence

from simbench.errors import InputError
from simbench.paths import PERSONA_SUFFIXES, check_path_length, resolve_persona, shipped_personas
from simbench.persona.loader import load_persona
from simbench.persona.spec import Persona

# Deliberately no call to the builtin `list` below: this module's `list` is the command's.


def files(refs: Sequence[str | Path]) -> builtins.list[Path]:
    """The persona files `refs` name: a file, a shipped id, or every *.yaml/*.yml directly in a
    folder (a folder without any is an error naming it)."""
    paths: builtins.list[Path] = []
    for ref in refs:
        check_path_length(str(ref), "FILE")
        folder = Path(ref)
        if folder.is_dir():
            found = sorted(p for p in folder.iterdir() if p.suffix in PERSONA_SUFFIXES and p.is_file())
            if not found:
                raise InputError(f"FILE {str(ref)!r}", "folder holds no persona file (*.yaml, *.yml)")
            paths.extend(found)
        else:
            paths.append(resolve_persona(str(ref), flag="FILE"))
    return paths


def list() -> builtins.list[Persona]:
    """The shipped personas (personas/), in file order; prompt pools are not checked."""
    return [load_persona(path, check_prompts=False) for path in shipped_personas()]


def validate(refs: Sequence[str | Path],
             on_valid: Callable[[Path, Persona], None] | None = None,
             on_error: Callable[[InputError], None] | None = None) -> builtins.list[Persona]:
    """Every persona `refs` name, fully checked (schema, schedule rules, prompt pools).
    `on_valid(path, persona)` hears each good one as it is checked. A bad one raises, or, with
    `on_error(error)`, is reported there and skipped, so every file gets checked."""
    checked = []
    for ref in refs:
        try:
            paths = files([ref])
        except InputError as exc:
            if on_error is None:
                raise
            on_error(exc)
            continue
        for path in paths:
            try:
                persona = load_persona(path, check_prompts=True)
            except InputError as exc:
                if on_error is None:
                    raise
                on_error(exc)
                continue
            if on_valid is not None:
                on_valid(path, persona)
            checked.append(persona)
    return checked


def show(ref: str | Path) -> Persona:
    """The persona `ref` names, as `simbench personas show` draws its timeline."""
    return load_persona(resolve_persona(str(ref), flag="FILE"), check_prompts=False)


def schema() -> dict[str, Any]:
    """The JSON Schema of persona files."""
    return Persona.model_json_schema()
