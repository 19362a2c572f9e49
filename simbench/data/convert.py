"""The converters by name, and the one conversion loop: read rows, convert, write atomically.

Every problem is found before the output is written (one temporary file renamed into
place), so on any error nothing is.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from simbench.data.conversations import conversation
from simbench.data.prompts import helpsteer2_prompt, prompt_id, tldr_prompt
from simbench.data.source import load_rows
from simbench.errors import InputError
from simbench.logs.io import write_atomic
from simbench.paths import check_can_create, check_path_length
from simbench.prompts import normalise_text


@dataclass(frozen=True)
class Converter:
    """One data set: the columns read, what it becomes, and the row conversion."""

    name: str
    columns: tuple[str, ...]
    output: str  # "prompts" (a prompt pool) or "conversations" (simbench distill input)
    row: Callable[[dict[str, Any]], Any]
    category: str = ""


CONVERTERS = {
    c.name: c
    for c in (
        Converter("helpsteer2", ("prompt",), "prompts", helpsteer2_prompt, "helpsteer2"),
        Converter("tldr", ("prompt",), "prompts", tldr_prompt, "summary"),
        Converter("wildchat", ("conversation",), "conversations",
                  lambda row: conversation(row, with_feedback=False)),
        Converter("wildfeedback", ("conversation",), "conversations",
                  lambda row: conversation(row, with_feedback=True)),
    )
}


@dataclass(frozen=True)
class Converted:
    """A finished conversion: where it was written, rows read, items written, and how many
    rows were left out (unusable) or were duplicates of an earlier prompt."""

    out: Path
    rows: int
    written: int
    left_out: int
    duplicates: int


def convert(name: str, src: str, out: str | Path, split: str = "train", limit: int | None = None) -> Converted:
    """Convert data set `name` from `src` (a hub id or a local file/folder) into `out`."""
    converter = CONVERTERS[name]
    out = Path(out).expanduser()
    check_path_length(out, "--out")
    if out.is_dir():
        raise InputError("--out", f"{out} is a folder", "give a .jsonl file path")
    check_can_create(out, "--out", "choose a writable place for the output file")
    if limit is not None and limit < 1:
        raise InputError("--limit", f"must be at least 1, got {limit}")
    items: list[Any] = []
    seen: set[str] = set()
    rows = left_out = duplicates = 0
    for row in load_rows(src, split, converter.columns, converter.name):
        rows += 1
        item = converter.row(row)
        if item is None:
            left_out += 1
            continue
        key = normalise_text(item) if converter.output == "prompts" else json.dumps(item, sort_keys=True)
        if key in seen:
            duplicates += 1
            continue
        seen.add(key)
        items.append(item)
        if limit is not None and len(items) == limit:
            break
    if not items:
        raise InputError(src, f"no usable rows among {rows} for {name}",
                         "check the data set and split (see docs/data.md for what each converter keeps)")
    lines = [_line(converter, item) for item in items]
    text = "".join(line + "\n" for line in lines)
    write_atomic(out, text)
    return Converted(out, rows, len(items), left_out, duplicates)


def _line(converter: Converter, item: Any) -> str:
    if converter.output == "prompts":
        item = {"id": prompt_id(converter.name, item), "text": item, "category": converter.category}
    return json.dumps(item, ensure_ascii=False)

