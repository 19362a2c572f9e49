"""Prompt pools (training prompts, held-out probes), general-capability questions, signal cases.

Builtin pools ship as JSONL package data ("builtin:train", "builtin:probe", the 410-prompt
"builtin:everyday-probe" tagged for per-user probe draws, ...); user pools are
JSONL files validated line by line, so a bad line fails early with its file, line and field.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence, TypeVar

from simbench.errors import InputError
from simbench.paths import check_path_length
from simbench.registry import suggest
from simbench.safe_load import POOL_BYTES, parse_json, read_bounded

BUILTIN_PREFIX = "builtin:"
PROMPT_POOLS = ("train", "probe", "everyday-probe", "ambiguous-train", "ambiguous-probe")
GENERAL_SETS = ("general",)
DRIFT_SETS = ("drift",)
SIGNAL_SETS = ("signal_cases",)
SIGNAL_KINDS = ("constraining", "reinforcing")

_PROMPT_FIELDS = ("id", "text", "category", "tags")
MAX_TAGS = 64
_GENERAL_FIELDS = ("id", "question", "answer", "aliases")
_SIGNAL_FIELDS = ("id", "preference", "kind", "prompt", "response", "relevant", "unrelated")

_Item = TypeVar("_Item", "Prompt", "GeneralQuestion", "SignalCase")


@dataclass(frozen=True)
class Prompt:
    """One user prompt of a pool. `category` is free text ("how-to", "summary", ...).

    `tags` name the prompt-dependent preferences the prompt can exercise (`lists` needs a
    question with several points, `clarify-first` an ambiguous request, ...): probe draws
    keep only prompts tagged with every such preference a persona holds (prompts/draws.py).
    """

    id: str
    text: str
    category: str = ""
    tags: tuple[str, ...] = ()


@dataclass(frozen=True)
class GeneralQuestion:
    """A question with an exact short answer, to check an update did not break the model."""

    id: str
    question: str
    answer: str
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True)
class SignalCase:
    """A (prompt, response) with a follow-up about one preference and one about something else.

    `kind` is "constraining" when the response violates the preference (the relevant
    follow-up asks for a change) and "reinforcing" when it satisfies it (the follow-up
    approves). Per-token advantages under both follow-ups are compared in signal analysis.
    """

    id: str
    preference: str
    kind: str
    prompt: str
    response: str
    relevant: str
    unrelated: str


# ---------------------------------------------------------------------------- JSONL reading


def _resolve(ref: str, base_dir: Path | None, builtins: Sequence[str]) -> tuple[str, bytes, str]:
    """(display name, raw bytes, stem) of a "builtin:NAME" or a file path."""
    if ref.startswith(BUILTIN_PREFIX):
        name = ref[len(BUILTIN_PREFIX) :]
        if name not in builtins:
            choices = [BUILTIN_PREFIX + b for b in builtins]
            raise InputError(ref, f"unknown builtin {name!r}", suggest(ref, choices))
        data = (resources.files(__name__) / "data" / f"{name}.jsonl").read_bytes()
        return ref, data, name
    path = Path(ref).expanduser()
    if not path.is_absolute() and base_dir is not None:
        path = Path(base_dir) / path
    check_path_length(path, ref if len(ref) <= 80 else ref[:77] + "...")
    if not path.is_file():
        problem = "is a directory, not a JSONL file" if path.is_dir() else "file not found"
        builtin_list = ", ".join(BUILTIN_PREFIX + b for b in builtins)
        raise InputError(str(path), problem, f"give a JSONL file path or one of {builtin_list}")
    return str(path), read_bounded(path, str(path), POOL_BYTES), path.stem


def _read_objects(display: str, data: bytes) -> list[tuple[int, dict[str, Any]]]:
    """The (line number, JSON object) pairs of a JSONL file; blank lines are skipped."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]  # editors on Windows add a byte-order mark; it is not content
    objects: list[tuple[int, dict[str, Any]]] = []
    for number, raw in enumerate(data.split(b"\n"), start=1):
        where = f"{display}, line {number}"
        try:
            line = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise InputError(
                where, f"not valid UTF-8 (byte {raw[exc.start]:#04x} at column {exc.start + 1})",
                "save the file as UTF-8",
            ) from None
        if not line.strip():
            continue
        try:
            value = parse_json(line, where)
        except InputError as exc:
            raise InputError(where, exc.problem, "each line must be one complete JSON object") from None
        if not isinstance(value, dict):
            raise InputError(where, f"expected a JSON object, got {type(value).__name__}")
        objects.append((number, value))
    if not objects:
        raise InputError(display, "file is empty", "add one JSON object per line")
    return objects


def _check_fields(where: str, obj: dict[str, Any], allowed: Sequence[str]) -> None:
    unknown = sorted(set(obj) - set(allowed))
    if unknown:
        close = suggest(unknown[0], list(allowed))
        raise InputError(f"{where}, field {unknown[0]!r}", "unknown field", close)


def _string(where: str, obj: dict[str, Any], key: str, required: bool = True) -> str:
    """The non-empty string under `key`; "" when absent and not required."""
    if key not in obj:
        if required:
            raise InputError(f"{where}, field {key!r}", "missing", f"add a non-empty {key!r} string")
        return ""
    value = obj[key]
    if not isinstance(value, str):
        raise InputError(
            f"{where}, field {key!r}",
            f"must be a string, got {type(value).__name__} {json.dumps(value)[:40]}",
        )
    if not value.strip() and (required or key == "id"):
        raise InputError(f"{where}, field {key!r}", "is empty", f"give a non-empty {key!r}")
    return value


def _check_unique_ids(display: str, ids: Iterable[tuple[int, str]]) -> None:
    first_line: dict[str, int] = {}
    for number, item_id in ids:
        if item_id in first_line:
            raise InputError(
                f"{display}, line {number}, field 'id'",
                f"duplicate id {item_id!r} (first used on line {first_line[item_id]})",
                "ids must be unique within a file",
            )
        first_line[item_id] = number


def _load_items(
    ref: str, base_dir: Path | None, builtins: Sequence[str], allowed: Sequence[str],
    build: Callable[[str, dict[str, Any], int, str], _Item],
) -> list[_Item]:
    """The items of a JSONL set in file order: unknown fields are rejected, then
    `build(where, obj, line number, file stem)` makes each item; ids must be unique."""
    display, data, stem = _resolve(ref, base_dir, builtins)
    items: list[_Item] = []
    ids: list[tuple[int, str]] = []
    for number, obj in _read_objects(display, data):
        where = f"{display}, line {number}"
        _check_fields(where, obj, allowed)
        item = build(where, obj, number, stem)
        ids.append((number, item.id))
        items.append(item)
    _check_unique_ids(display, ids)
    return items


# ---------------------------------------------------------------------------- prompt pools


def load_prompts(ref: str, base_dir: Path | None = None) -> list[Prompt]:
    """The prompts of "builtin:train", "builtin:probe" or a JSONL file, in file order.

    Each line is {"text": ..., "id"?: ..., "category"?: ...}; a missing id becomes
    "<file stem>-<line number>". Relative paths resolve against `base_dir` (e.g. the
    persona file's folder) when given, else the working directory.
    """
    return _load_items(ref, base_dir, PROMPT_POOLS, _PROMPT_FIELDS, _prompt_item)


def _prompt_item(where: str, obj: dict[str, Any], number: int, stem: str) -> Prompt:
    text = _string(where, obj, "text")
    prompt_id = _string(where, obj, "id", required=False) or f"{stem}-{number}"
    category = _string(where, obj, "category", required=False)
    return Prompt(id=prompt_id, text=text, category=category, tags=_tags(where, obj))


def _tags(where: str, obj: dict[str, Any]) -> tuple[str, ...]:
    """The optional `tags` list: distinct non-empty strings (preference ids)."""
    value = obj.get("tags", [])
    if (not isinstance(value, list) or len(value) > MAX_TAGS
            or not all(isinstance(tag, str) and tag.strip() for tag in value)):
        raise InputError(f"{where}, field 'tags'", f"must be a list of at most {MAX_TAGS} non-empty strings",
                         'e.g. "tags": ["lists", "answer-first"]')
    if len(set(value)) != len(value):
        raise InputError(f"{where}, field 'tags'", "repeats a tag", "list each tag once")
    return tuple(value)


def normalise_text(text: str) -> str:
    """Case- and whitespace-insensitive form of a prompt, used to compare pools."""
    return " ".join(text.casefold().split())


def check_disjoint(train: Sequence[Prompt], probe: Sequence[Prompt], where: str) -> None:
    """Raise if a probe prompt repeats a training prompt: probes must stay held out."""
    train_ids: dict[str, str] = {}
    for prompt in train:
        train_ids.setdefault(normalise_text(prompt.text), prompt.id)
    clashes = [
        f"{p.id} = {train_ids[normalise_text(p.text)]}"
        for p in probe
        if normalise_text(p.text) in train_ids
    ]
    if clashes:
        shown = ", ".join(clashes[:5]) + (f" and {len(clashes) - 5} more" if len(clashes) > 5 else "")
        raise InputError(
            where,
            f"{len(clashes)} probe prompt(s) also appear in the training pool: {shown}",
            "remove them from one of the pools so probes stay held out",
        )


def pool_hash(prompts: Sequence[Prompt]) -> str:
    """sha256 hex digest of a pool's ids, texts and categories in order (order matters:
    it decides which prompt is seen at which interaction)."""
    canonical = json.dumps(
        [{"id": p.id, "text": p.text, "category": p.category} for p in prompts],
        ensure_ascii=False, sort_keys=True, separators=(",", ":"),
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def load_drift_texts(ref: str = "builtin:drift", base_dir: Path | None = None) -> list[Prompt]:
    """General-text passages whose likelihood shows collateral drift (runner/drift.py); same
    line format as a prompt pool."""
    return _load_items(ref, base_dir, DRIFT_SETS, _PROMPT_FIELDS, _prompt_item)


# ---------------------------------------------------------------------------- general questions


def load_general(ref: str = "builtin:general", base_dir: Path | None = None) -> list[GeneralQuestion]:
    """General-capability questions: {"id", "question", "answer", "aliases"?: [str, ...]}."""
    return _load_items(ref, base_dir, GENERAL_SETS, _GENERAL_FIELDS, _general_item)


def _general_item(where: str, obj: dict[str, Any], number: int, stem: str) -> GeneralQuestion:
    aliases = obj.get("aliases", [])
    if not isinstance(aliases, list) or not all(isinstance(a, str) and a.strip() for a in aliases):
        raise InputError(f"{where}, field 'aliases'", "must be a list of non-empty strings")
    return GeneralQuestion(
        id=_string(where, obj, "id"),
        question=_string(where, obj, "question"),
        answer=_string(where, obj, "answer"),
        aliases=tuple(aliases),
    )


def _mentions(text: str, phrase: str) -> bool:
    """Whether `phrase` occurs in `text` as a whole word or whole number (case-insensitive)."""
    pattern = r"(?<!\w)" + re.escape(phrase.casefold()) + r"(?!\w)"
    if phrase[:1].isdigit():
        pattern = r"(?<!\d[.,])" + pattern  # "3.24" does not contain the number 24
    if phrase[-1:].isdigit():
        pattern += r"(?![.,]\d)"  # "12.5" does not contain the number 12
    return re.search(pattern, text.casefold()) is not None


def score_general(text: str, item: GeneralQuestion) -> bool:
    """True when the answer or one of its aliases appears in `text` as a whole word/number."""
    return any(_mentions(text, phrase) for phrase in (item.answer, *item.aliases))


# ---------------------------------------------------------------------------- signal cases


def load_signal_cases(ref: str = "builtin:signal_cases", base_dir: Path | None = None) -> list[SignalCase]:
    """Cases for per-token advantage analysis; every field is a required non-empty string."""
    return _load_items(ref, base_dir, SIGNAL_SETS, _SIGNAL_FIELDS, _signal_case)


def _signal_case(where: str, obj: dict[str, Any], number: int, stem: str) -> SignalCase:
    values = {key: _string(where, obj, key) for key in _SIGNAL_FIELDS}
    if values["kind"] not in SIGNAL_KINDS:
        raise InputError(
            f"{where}, field 'kind'", f"unknown kind {values['kind']!r}",
            suggest(values["kind"], list(SIGNAL_KINDS)),
        )
    return SignalCase(**values)


__all__ = [
    "GeneralQuestion",
    "Prompt",
    "SignalCase",
    "check_disjoint",
    "load_drift_texts",
    "load_general",
    "load_prompts",
    "load_signal_cases",
    "normalise_text",
    "pool_hash",
    "score_general",
]
