"""Read a persona YAML file safely and turn every problem into one `InputError` line.

Only plain YAML data is accepted (safe loader, no aliases, no duplicate keys, at most 1 MB,
UTF-8), so a persona file can neither run code nor expand into a billion-element document.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Union, get_args, get_origin

from pydantic import BaseModel, ValidationError

from simbench.errors import InputError
from simbench.paths import PACKAGE_DATA_DIR
from simbench.persona.spec import RULE_ERROR, Persona
from simbench.prompts import check_disjoint, load_prompts
from simbench.registry import suggest
from simbench.safe_load import TEXT_BYTES, decode_utf8, parse_yaml, read_bounded

MAX_BYTES = TEXT_BYTES
BUILTIN_PREFIX = "builtin:"
VALUE_CHARS = 60


def read_yaml_mapping(path: Path, where: str) -> dict[str, Any]:
    """The top-level mapping of a YAML file, or an `InputError` naming the file and line."""
    if not path.is_file():
        raise InputError(where, "no such file")
    raw = read_bounded(path, where, MAX_BYTES)
    return parse_yaml_mapping(decode_utf8(raw, where), where)


def parse_yaml_mapping(text: str, where: str) -> dict[str, Any]:
    """Parse YAML `text` with the plain loader; the result must be a non-empty mapping."""
    data = parse_yaml(text, where)
    if data is None:
        raise InputError(where, "empty file", "a persona needs at least id, name, background and schedule")
    if not isinstance(data, dict):
        raise InputError(where, f"top level must be a mapping of persona fields, got {type(data).__name__}")
    return data


def parse_persona(data: dict[str, Any], where: str) -> Persona:
    """Validate parsed YAML as a `Persona`; the first problem becomes one `InputError`."""
    try:
        return Persona.model_validate(data)
    except ValidationError as exc:
        raise translate(exc, where) from None


def load_persona(path: str | Path, *, check_prompts: bool = True) -> Persona:
    """Load and validate a persona file; with `check_prompts`, also load its prompt pools."""
    path = Path(path)
    where = str(path)
    persona = parse_persona(read_yaml_mapping(path, where), where)
    # The source is not persona content (content_hash ignores it), so it lives in a private attr.
    persona._source = path
    if check_prompts:
        load_persona_prompts(persona)
    return persona


def prompt_path(persona: Persona, field: str) -> Path | None:
    """The resolved file behind `prompts.<field>` (None for built-in pools), kept in bounds."""
    ref = getattr(persona.prompts, field)
    if ref.startswith(BUILTIN_PREFIX):
        return None
    base = _base_dir(persona)
    # expanduser as load_prompts does, so '~/x' cannot slip past the bounds check.
    path = (base / Path(ref).expanduser()).resolve()
    roots = [base.resolve(), PACKAGE_DATA_DIR.resolve()]
    if not persona.allow_outside_paths and not any(path.is_relative_to(root) for root in roots):
        raise InputError(
            f"{_where(persona)}: prompts.{field}",
            f"path {ref!r} resolves outside the persona's folder ({path})",
            "move the prompt file next to the persona, or set allow_outside_paths: true",
        )
    return path


def load_persona_prompts(persona: Persona) -> tuple[list[Any], list[Any]]:
    """The persona's (training, probe) prompts, checked to be in bounds and disjoint."""
    pools = []
    for field in ("train", "probe"):
        prompt_path(persona, field)
        try:
            pools.append(load_prompts(getattr(persona.prompts, field), _base_dir(persona)))
        except InputError as exc:
            raise InputError(f"{_where(persona)}: prompts.{field}", str(exc)) from None
    check_disjoint(pools[0], pools[1], f"{_where(persona)}: prompts")
    return pools[0], pools[1]


def translate(exc: ValidationError, where: str) -> InputError:
    """The first pydantic error as 'file: field.path: problem (hint)'.

    An unknown key is reported before anything else: a misspelt `schedul:` also makes
    `schedule` missing, and "unknown key 'schedul' (did you mean 'schedule'?)" is the fix.
    """
    errors = exc.errors(include_url=False)
    error = next((e for e in errors if e["type"] == "extra_forbidden"), errors[0])
    loc = tuple(error["loc"])
    kind = error["type"]
    ctx = error.get("ctx") or {}
    value = error.get("input")
    if kind == RULE_ERROR:
        return InputError(f"{where}: {ctx['field']}", ctx["problem"], ctx.get("hint") or None)
    if kind == "extra_forbidden":
        key = str(loc[-1])
        model = _model_at(loc[:-1])
        hint = suggest(key, list(model.model_fields), list_when_close=False) if model else None
        return InputError(_at(where, loc[:-1]), f"unknown key {key!r}", hint)
    if kind == "missing":
        return InputError(_at(where, loc[:-1]), f"missing required field {str(loc[-1])!r}")
    bounds = {"greater_than_equal": ">=", "greater_than": ">", "less_than_equal": "<=", "less_than": "<"}
    if kind in bounds:
        limit = next(iter(ctx.values()))
        return InputError(_at(where, loc), f"must be {bounds[kind]} {limit}, got {_short(value)}")
    if kind in ("too_short", "string_too_short") and ctx.get("min_length") == 1:
        return InputError(_at(where, loc), "must not be empty")
    if kind == "string_pattern_mismatch":
        hint = "use letters, digits and single dashes, e.g. 'my-persona'"
        return InputError(_at(where, loc), f"{_short(value)} is not a lowercase slug", hint)
    if kind in ("model_type", "dict_type", "model_attributes_type"):
        return InputError(_at(where, loc), f"should be a mapping, got {_short(value)}")
    message = error["msg"]
    if message.startswith("Input should"):
        return InputError(_at(where, loc), f"{message[len('Input '):]}, got {_short(value)}")
    return InputError(_at(where, loc), message[0].lower() + message[1:])


def field_path(loc: tuple[Any, ...]) -> str:
    """('schedule', 1, 'preferences', 0) -> 'schedule[1].preferences[0]'."""
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def _at(where: str, loc: tuple[Any, ...]) -> str:
    return f"{where}: {field_path(loc)}" if loc else where


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= VALUE_CHARS else text[: VALUE_CHARS - 3] + "..."


def _model_at(loc: tuple[Any, ...]) -> type[BaseModel] | None:
    """The pydantic model describing the mapping at `loc` (for did-you-mean on unknown keys)."""
    current: Any = Persona
    for part in loc:
        if isinstance(part, int):
            current = get_args(current)[0] if get_origin(current) is list else None
        elif isinstance(current, type) and issubclass(current, BaseModel) and part in current.model_fields:
            current = current.model_fields[part].annotation
        else:
            return None
        args = [a for a in get_args(current) if a is not type(None)]
        if get_origin(current) is Union and len(args) == 1:
            current = args[0]
    return current if isinstance(current, type) and issubclass(current, BaseModel) else None


def _base_dir(persona: Persona) -> Path:
    return persona.source.resolve().parent if persona.source else Path.cwd()


def _where(persona: Persona) -> str:
    return str(persona.source) if persona.source else f"persona {persona.id!r}"
