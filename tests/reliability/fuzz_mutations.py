"""Seeded mutations of persona YAML, `--config` JSON and run logs for the fuzz pass
(tests/reliability/test_fuzz.py). Every draw comes from one `random.Random(seed)`, so an
example is rebuilt from its seed alone.

Values that no serializer writes (deep nesting, YAML tags and aliases, NaN and giant-digit
JSON tokens) go in as placeholders and are spliced into the text after dumping.
"""

from __future__ import annotations

import json
import random
import re
from typing import Any, Callable

import yaml

Tree = Any

# Pieces of raw text a placeholder stands for; {n} is a random depth or size.
YAML_RAW = [
    "!!python/object/apply:os.system ['true']", "!!python/name:os.system", "!!binary aGVsbG8=",
    "!!set {a, b}", "!!omap [a: 1]", "!!timestamp 2001-12-14", "2001-12-14", "2001-12-14 21:59:43.10",
    "!!float .nan", ".inf", "-.inf", "!custom x", "!!str 12", "!!int '12'", "~", "0x1F", "0o17", "1_000",
    "yes", "on", "=", "*undefined", "&anchor [1, 2]", "{<<: {a: 1}, b: 2}", '"\\ud800"', '"\\udfff x"',
    '"a\\0b"', '"\\x00"', '"\\U0010FFFF"', "'", '"', "[", "{", "|", ">", "- a", "? a", "%YAML 1.1",
    "1e999", "-1e999", "0.1e-400", "9" * 40, "9" * 5000, "-" + "9" * 4400, "12:30:00", "Null", "NaN",
]
JSON_RAW = [
    "NaN", "Infinity", "-Infinity", "1e999", "-1e999", "-0", "0.0000", "1" * 30, "1" * 5000, "-" + "7" * 4400,
    '"\\ud800"', '"\\udc00\\ud800"', '"\\u0000"', '{"a": 1, "a": 2}', "[]", "{}", "null", "true", '"\\n\\r\\t"',
]
BAD_REGEXES = [
    "(unclosed", "[", "*", "+a", "a{2,1}", "(?P<", "(?<=a+)b", "\\", "(?i", "[z-a]", "(?P<x>a)(?P<x>b)",
    "\\1", "(?#", "a**", "", "(a+)+$", "(a|aa)*$", "(\\w+\\s?)*$", "x" * 5000, "[^]", "\\p{L}", "(?<!",
]
STRINGS = [
    "", " ", "\t", "\n", "x", "🙂" * 50, "\u202eevil\u0301", "a\x00b", "\x00", "\ud800", "\udfff\ud800",
    "\ufeffbom", "ä" * 3, "../../etc/passwd", "/dev/zero", "C:\\x", "%s%n", "{0}", "${HOME}", "null",
    "concise", "Concise", "CONCISE", "sdpo-token", "frozen", "cpu", "cuda", "-1", "1e3", "0x10",
]


class Mutator:
    """Random mutations driven by one seeded generator; `notes` records what was done."""

    def __init__(self, seed: int, raw: list[str]) -> None:
        self.random = random.Random(seed)
        self.raw_pool = raw
        self.raws: list[str] = []
        self.notes: list[str] = []

    # ------------------------------------------------------------------ values

    def raw(self, text: str) -> str:
        self.raws.append(text)
        return f"@@RAW{len(self.raws) - 1}@@"

    def deep(self) -> str:
        depth = self.random.choice([20, 60, 200, 990, 3000])
        opener = self.random.choice(["[", "{\"a\": ", "[{\"k\": "])
        closer = {"[": "]", "{\"a\": ": "}", "[{\"k\": ": "}]"}[opener]
        return self.raw(opener * depth + "1" + closer * depth)

    def value(self) -> Any:
        """A value of a random type, size and oddness."""
        r = self.random
        choice = r.randrange(14)
        if choice == 0:
            return r.choice([None, True, False])
        if choice == 1:
            return r.choice([0, 1, -1, 2, 7, 8, 4096, 4097, -(2 ** 63), 2 ** 63, 2 ** 64 + 1, 10 ** r.randint(10, 300)])
        if choice == 2:
            return r.choice([0.5, -0.0, 1e-300, 1e308, 3.999, -2.5, float(r.randint(1, 64))])
        if choice in (3, 4):
            return r.choice(STRINGS)
        if choice == 5:
            return r.choice(["x", "a b ", "é", "🙂", "\x07"]) * r.choice([100, 2000, 120_000])
        if choice == 6:
            return r.choice([[], {}, [1, 2], {"a": 1}, [None], [[[]]], {"": ""}, ["concise", "concise"]])
        if choice == 7:
            return self.deep()
        if choice in (8, 9):
            return self.raw(r.choice(self.raw_pool))
        if choice == 10:
            return r.choice(BAD_REGEXES)
        if choice == 11:
            return "".join(chr(r.randrange(0x110000)) for _ in range(r.randint(1, 20)))
        if choice == 12:
            return {self.key(): self.value() for _ in range(r.randint(1, 3))}
        return [self.value() for _ in range(r.randint(1, 3))]

    def key(self) -> str:
        return self.random.choice(["id", "ID", "at", "check", "prefs", "x", "", " ", "\u00e9", "1", "null",
                                   "interactions", "schedule", "preferences", "t", "status", "config", "lr"])

    # ------------------------------------------------------------------ trees

    def nodes(self, tree: Tree, path: tuple = ()) -> list[tuple]:
        found = [path]
        if isinstance(tree, dict):
            for key, child in tree.items():
                found += self.nodes(child, path + (key,))
        elif isinstance(tree, list):
            for index, child in enumerate(tree):
                found += self.nodes(child, path + (index,))
        return found

    def mutate_tree(self, tree: Tree) -> Tree:
        """One structural change somewhere in `tree` (a JSON-like value); returns the new tree."""
        r = self.random
        path = r.choice(self.nodes(tree))
        if not path:
            self.notes.append("replace the whole document")
            return self.value()
        parent = tree
        for step in path[:-1]:
            parent = parent[step]
        last = path[-1]
        op = r.choice(["replace", "replace", "replace", "delete", "duplicate", "swap", "wrap", "add"])
        if op == "delete":
            del parent[last]
        elif op == "duplicate" and isinstance(parent, list):
            parent.insert(last, json.loads(json.dumps(parent[last])) if _plain(parent[last]) else parent[last])
        elif op == "swap" and isinstance(parent, dict) and len(parent) > 1:
            other = r.choice([k for k in parent if k != last])
            parent[last], parent[other] = parent[other], parent[last]
            op = f"swap with {other!r}"
        elif op == "wrap":
            parent[last] = r.choice([[parent[last]], {"value": parent[last]}, [parent[last], parent[last]]])
        elif op == "add" and isinstance(parent, dict):
            parent[self.key() + r.choice(["", "_", "s"])] = self.value()
        else:
            op = "replace"
            parent[last] = self.value()
        self.notes.append(f"{op} at {list(path)!r}")
        return tree

    # ------------------------------------------------------------------ text and bytes

    def splice(self, text: str) -> str:
        """`text` with every placeholder (quoted or not) replaced by its raw piece."""
        return re.sub(r"""['"]?@@RAW(\d+)@@['"]?""", lambda m: self.raws[int(m.group(1))], text)

    def mutate_bytes(self, data: bytes) -> bytes:
        """One change to the serialized bytes: truncation, flips, junk, line edits."""
        r = self.random
        op = r.choice(["truncate", "flip", "insert", "line-dup", "line-drop", "line-swap", "bom", "crlf"])
        self.notes.append(f"bytes: {op}")
        lines = data.splitlines(keepends=True)
        if op == "truncate":
            return data[: r.randrange(len(data) + 1)]
        if op == "flip" and data:
            out = bytearray(data)
            for _ in range(r.randint(1, 4)):
                out[r.randrange(len(out))] = r.randrange(256)
            return bytes(out)
        if op == "insert":
            at = r.randrange(len(data) + 1)
            junk = r.choice([b"\x00", b"\xff\xfe", b"\xc3", b"\r", b"\t", b"\x1b[31m", b"\xed\xa0\x80", b"\n\n"])
            return data[:at] + junk + data[at:]
        if op == "line-dup" and lines:
            i = r.randrange(len(lines))
            return b"".join(lines[: i + 1] + [lines[i]] + lines[i + 1:])
        if op == "line-drop" and lines:
            i = r.randrange(len(lines))
            return b"".join(lines[:i] + lines[i + 1:])
        if op == "line-swap" and len(lines) > 1:
            i, j = r.sample(range(len(lines)), 2)
            lines[i], lines[j] = lines[j], lines[i]
            return b"".join(lines)
        if op == "bom":
            return b"\xef\xbb\xbf" + data
        return data.replace(b"\n", b"\r\n")


def _plain(value: Any) -> bool:
    try:
        json.dumps(value)
        return True
    except (TypeError, ValueError):
        return False


def dump_yaml(tree: Tree) -> str:
    return yaml.safe_dump(tree, allow_unicode=True, sort_keys=False, width=10_000)


def dump_json(tree: Tree) -> str:
    return json.dumps(tree)


def serialize(mutator: Mutator, tree: Tree, dump: Callable[[Tree], str]) -> bytes:
    """`tree` dumped, placeholders spliced, encoded (lone surrogates pass through escaped)."""
    text = mutator.splice(dump(tree))
    return text.encode("utf-8", "surrogatepass")
