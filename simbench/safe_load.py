"""The one bounded, typed reader of every JSON, JSONL and YAML input simbench reads.

Persona files, prompt pools, signal cases, `--config` files, run manifests, checkpoints and
run logs all pass through here, so every way a file can be hostile or broken (too big, not
UTF-8, nested thousands deep, not the expected type, a YAML tag or alias, an integer too long
for Python to convert, a string that is not valid Unicode) ends in one `InputError` line
naming the file (and line), never a traceback. Depth is bounded because Python's parsers and
everything downstream (pydantic, json.dumps of the manifest) recurse; lone surrogates are
refused because they parse fine and only crash the first writer, after folders exist.

A base module, not part of `logs/`: config, personas, prompts and the logs all read through it.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any, Iterable, Iterator, TypeVar

import yaml

from simbench.errors import InputError

# Limits by kind of file: hand-written inputs are small; run logs grow with the episode.
TEXT_BYTES = 1_000_000          # persona, --config, manifest-sized files
POOL_BYTES = 50_000_000         # prompt pools, signal cases, conversation logs
LOG_BYTES = 2_000_000_000       # one run log (JSONL)
MAX_DEPTH = 32                  # nesting of any value: records are 4-5 deep at most
# Python refuses to convert longer decimal strings (sys.get_int_max_str_digits); we refuse them
# ourselves, on every Python, so the error names the file instead of being a bare ValueError.
MAX_INT_DIGITS = 4300
_MAX_INT_BITS = 14_280  # about 10**4300: a YAML 0x... integer can be built, but not printed

T = TypeVar("T")


# ---------------------------------------------------------------------------- bytes and text


def read_bounded(path: Path, where: str, max_bytes: int = TEXT_BYTES) -> bytes:
    """The bytes of the regular file `path`, at most `max_bytes` (read bounded, so a file that
    grows after a stat cannot slip past); anything else is an `InputError` naming `where`."""
    try:
        if not path.is_file():
            problem = "is a directory, not a file" if path.is_dir() else "file not found"
            if path.exists() and not path.is_dir():
                problem = "is not a regular file"
            raise InputError(where, problem)
        with open(path, "rb") as handle:
            raw = handle.read(max_bytes + 1)
    except OSError as exc:
        raise InputError(where, f"cannot be read ({exc.strerror or exc})") from None
    if len(raw) > max_bytes:
        size = max(_size(path), len(raw))
        raise InputError(where, f"file is {size} bytes, above the {max_bytes}-byte limit")
    return raw


def decode_utf8(raw: bytes, where: str) -> str:
    """`raw` as UTF-8 text (a leading byte-order mark dropped); bad bytes name line and byte."""
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        problem = f"not UTF-8 (byte {raw[exc.start]:#04x} at offset {exc.start})"
        raise InputError(f"{where}: line {line}", problem, "save the file as UTF-8") from None


# ---------------------------------------------------------------------------- depth


def nesting_depth(value: Any) -> int:
    """How deeply lists and dicts nest in `value` (a scalar is 0), computed without recursion."""
    deepest = 0
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        children: Iterable[Any]
        if isinstance(item, dict):
            children = item.values()
        elif isinstance(item, (list, tuple)):
            children = item
        else:
            continue
        deepest = max(deepest, depth)
        stack.extend((child, depth + 1) for child in children)
    return deepest


def check_depth(value: Any, where: str, max_depth: int = MAX_DEPTH) -> Any:
    if nesting_depth(value) > max_depth:
        raise InputError(where, f"nested more than {max_depth} levels deep", "flatten the data")
    return value


# ---------------------------------------------------------------------------- text values


class _TooManyDigits(ValueError):
    """Raised by the JSON integer hook; caught in `parse_json` and turned into an InputError."""


def _bounded_int(text: str) -> int:
    if len(text.lstrip("+-")) > MAX_INT_DIGITS:
        raise _TooManyDigits(text)
    return int(text)


def too_many_digits(where: str) -> InputError:
    return InputError(where, f"integer with more than {MAX_INT_DIGITS} digits",
                      "write it as a string or a float")


def _lone_surrogate(text: str) -> str | None:
    """The first code point of `text` that UTF-8 cannot encode (a lone surrogate), or None."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        return f"\\u{ord(text[exc.start]):04x}"
    return None


def check_text(value: Any, where: str) -> Any:
    """`value`, refused when any string in it (keys too, at any depth) is not valid Unicode,
    or any integer has more than MAX_INT_DIGITS digits (no writer could print it).

    JSON's `\\ud800` escape and YAML's `"\\ud800"` yield strings no writer can encode; the
    error names the field so the user can find it. Walked without recursion, like the depth.
    """
    stack: list[tuple[Any, str]] = [(value, "")]
    while stack:
        item, field = stack.pop()
        if isinstance(item, str):
            bad = _lone_surrogate(item)
            if bad:
                raise InputError(where, f"{field or 'the value'} holds a lone surrogate ({bad}), which is "
                                 "not valid Unicode text", "write the character itself, or a full surrogate pair")
        elif isinstance(item, int) and item.bit_length() > _MAX_INT_BITS:
            raise too_many_digits(f"{where}: {field}" if field else where)
        elif isinstance(item, dict):
            for key, child in item.items():
                # its name must not print a huge int; the key is checked first (pushed last)
                printable = not isinstance(key, int) or key.bit_length() <= _MAX_INT_BITS
                name = str(key) if printable else "?"
                stack.append((child, f"{field}.{name}" if field else name))
                stack.append((key, f"a key of {field or 'the top level'}"))
        elif isinstance(item, (list, tuple)):
            stack.extend((child, f"{field}[{index}]") for index, child in enumerate(item))
    return value


# A \uD800-\uDFFF escape that is not half of a pair: only used to name the line of one.
_LONE_ESCAPE = re.compile(r"\\u[dD][89abAB][0-9a-fA-F]{2}(?!\\u[dD][c-fC-F])"
                          r"|(?<!\\u[dD][89abAB][0-9a-fA-F]{2})\\u[dD][c-fC-F][0-9a-fA-F]{2}")
_LONG_DIGITS = re.compile(r"[0-9]{%d,}" % (MAX_INT_DIGITS + 1))


def _line_of(pattern: re.Pattern[str], text: str) -> int | None:
    match = pattern.search(text)
    return text.count("\n", 0, match.start()) + 1 if match else None


def _at_line(where: str, line: int | None, text: str) -> str:
    # a JSONL caller already names the line; a JSON file of several lines gets it added here
    return f"{where}: line {line}" if line and "\n" in text and ": line " not in where else where


def expect_type(value: Any, kind: type[T], where: str) -> T:
    if not isinstance(value, kind):
        names: dict[type, str] = {dict: "a JSON object (mapping)", list: "a list"}
        raise InputError(where, f"must hold {names.get(kind, kind.__name__)}, got {type(value).__name__}")
    return value


# ---------------------------------------------------------------------------- JSON / JSONL


def parse_json(text: str | bytes, where: str, max_depth: int = MAX_DEPTH) -> Any:
    """One JSON value; syntax errors name line and column; deep nesting, integers beyond
    MAX_INT_DIGITS and strings that are not valid Unicode are refused."""
    try:
        value = json.loads(text, parse_int=_bounded_int)
    except json.JSONDecodeError as exc:
        raise InputError(where, f"malformed JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})") from None
    except RecursionError:
        raise InputError(where, f"nested more than {max_depth} levels deep", "flatten the data") from None
    except UnicodeDecodeError as exc:
        raise InputError(where, f"not UTF-8 (byte {exc.object[exc.start]:#04x} at offset {exc.start})") from None
    except _TooManyDigits:
        plain = text if isinstance(text, str) else text.decode("utf-8", "replace")
        raise too_many_digits(_at_line(where, _line_of(_LONG_DIGITS, plain), plain)) from None
    check_depth(value, where, max_depth)
    # cheap pre-check: only a \u escape can put a surrogate in parsed JSON (UTF-8 input cannot)
    plain = text if isinstance(text, str) else text.decode("utf-8", "replace")
    if "\\u" in plain:
        check_text(value, _at_line(where, _line_of(_LONE_ESCAPE, plain), plain))
    return value


def load_json(path: Path, where: str | None = None, kind: type[T] = dict,  # type: ignore[assignment]
              max_bytes: int = TEXT_BYTES) -> T:
    """The JSON file `path`, which must hold a value of type `kind` (default: an object)."""
    where = where or str(path)
    value = parse_json(decode_utf8(read_bounded(path, where, max_bytes), where), where)
    return expect_type(value, kind, where)


def iter_jsonl(path: Path, where: str | None = None, max_bytes: int = LOG_BYTES,
               data: bytes | None = None) -> Iterator[tuple[int, dict[str, Any]]]:
    """(line number, object) of every record of a JSONL log; blank lines are skipped.

    The one torn-line rule of simbench: a writer ends every record with a newline, so only a
    final line WITHOUT a newline (a write cut off by a kill) may be broken, and it is
    dropped. A broken line that ends in a newline is corruption and is refused. `data`
    reads those bytes instead of the file (a log cut back to a checkpoint's length).
    """
    where = where or str(path)
    if data is None:
        if not path.exists():
            return
        data = read_bounded(path, where, max_bytes)
    lines = data.split(b"\n")
    last = len(lines) - 1  # after the final newline: empty unless the last record is torn
    for index, raw in enumerate(lines):
        if not raw.strip():
            continue
        at = f"{where}: line {index + 1}"
        try:
            value = parse_json(raw.decode("utf-8"), at)
        except (InputError, UnicodeDecodeError) as exc:
            if index == last:
                return
            problem = "not UTF-8" if isinstance(exc, UnicodeDecodeError) else exc.problem
            raise InputError(at, problem, "only an unterminated last line may be torn") from None
        yield index + 1, expect_type(value, dict, at)


def read_jsonl(path: Path, where: str | None = None, max_bytes: int = LOG_BYTES) -> list[dict[str, Any]]:
    return [record for _, record in iter_jsonl(path, where, max_bytes)]


# ---------------------------------------------------------------------------- YAML


class PlainYamlLoader(yaml.SafeLoader):
    """SafeLoader without aliases (the alias-bomb vector) and without duplicate keys."""

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            problem = "YAML aliases (*name) are not allowed; write the value out"
            raise yaml.composer.ComposerError(None, None, problem, self.peek_event().start_mark)
        return super().compose_node(parent, index)

    def construct_mapping(self, node: Any, deep: bool = False) -> Any:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            if isinstance(key_node, yaml.ScalarNode):
                key = self.construct_object(key_node, deep=deep)
                if key in seen:
                    problem = f"duplicate key {key!r}"
                    raise yaml.constructor.ConstructorError(None, None, problem, key_node.start_mark)
                seen.add(key)
        return super().construct_mapping(node, deep=deep)

    def construct_yaml_int(self, node: Any) -> Any:
        digits = str(node.value).lstrip("+-").replace("_", "")
        if len(digits) > MAX_INT_DIGITS and digits.isdigit():
            raise yaml.constructor.ConstructorError(None, None, f"integer with more than {MAX_INT_DIGITS} digits",
                                                    node.start_mark)
        return super().construct_yaml_int(node)


# the constructor table holds functions, so the override must be registered to be used
PlainYamlLoader.add_constructor("tag:yaml.org,2002:int", PlainYamlLoader.construct_yaml_int)


def load_plain_yaml(text: str, max_depth: int = MAX_DEPTH) -> Any:
    """`text` as plain YAML data (safe, no aliases, no duplicate keys, bounded depth).

    Depth is measured on the event stream first (the parser does not recurse, the composer
    does), so a document nested thousands deep is refused before it is built. Raises YAMLError.
    """
    depth = 0
    for event in yaml.parse(text, Loader=PlainYamlLoader):  # noqa: S506 - a SafeLoader
        if isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
            depth += 1
            if depth > max_depth:
                problem = f"nested more than {max_depth} levels deep"
                start = event.start_mark  # the C parser's Mark is another class: copy its position
                mark = None if start is None else yaml.error.Mark(start.name, start.index, start.line, start.column,
                                                                   "", 0)
                raise yaml.composer.ComposerError(None, None, problem, mark)
        elif isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
            depth -= 1
    return yaml.load(text, Loader=PlainYamlLoader)  # noqa: S506 - a SafeLoader


def parse_yaml(text: str, where: str) -> Any:
    """Plain YAML `text`; every problem is one `InputError` naming line and column."""
    try:
        value = load_plain_yaml(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = exc.problem or exc.context or "invalid YAML"
        at = f": line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise InputError(f"{where}{at}", f"YAML error: {problem}") from None
    except yaml.YAMLError as exc:
        raise InputError(where, f"YAML error: {' '.join(str(exc).split())}") from None
    except RecursionError:
        raise InputError(where, f"YAML nested more than {MAX_DEPTH} levels deep") from None
    except ValueError:  # an int form our digit check does not parse (e.g. 1:2:3...), still too long
        raise too_many_digits(where) from None
    return check_text(value, where)


def _size(path: Path) -> int:
    try:
        return os.stat(path).st_size
    except OSError:
        return 0
