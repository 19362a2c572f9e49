"""Regexes that come from user files (a persona's `forbid_regex`/`require_regex`): checked before
a run so that a shared persona file cannot hang or crash a checker, and timed while matching.

Two lines of defence. At validation, `check_pattern` refuses a pattern that is too long,
repeats more than `MAX_REPEAT_COUNT` times (nested counts multiplied), nests too deeply, or can
match the same text in more than one way inside a repeat — the shape behind exponential backtracking (`(a+)+$`,
`(.|\\s)*X`, `(a|aa)+$`, `(.*a){20}`). At match time, `search` runs the pattern with the `regex`
package (in its `V0` mode, which keeps Python `re` syntax and behaviour) under a time budget,
which also bounds the slow patterns the analysis lets through (polynomial ones such as
`.*a.*a.*a.*b` on a long answer).

Why the analysis walks Python's own parse tree (`re._parser`, `sre_parse` before 3.11) instead
of scanning the text: the tree already resolves escapes, classes, groups and flags exactly as
`re` reads them, so the check cannot disagree with the syntax validation accepted. The parser
is private, but its tree has kept this shape across the Python versions simbench supports; an
op the walk does not know is treated as "could match anything, could be empty", which only
refuses more.

The ambiguity test uses first/follow sets over a sample alphabet: ASCII, a few non-ASCII
letters, digits and spaces, and every character the pattern names (literals and range ends),
so two classes that share any character the pattern mentions are seen to overlap.
"""

from __future__ import annotations

import functools
import re
import sys
from typing import Any, Optional

import regex

if sys.version_info >= (3, 11):  # sre_parse is deprecated from 3.11 on
    import re._parser as _sre_parse
    from re._constants import MAXREPEAT
else:  # pragma: no cover - Python 3.10
    import sre_parse as _sre_parse
    from sre_constants import MAXREPEAT

MAX_PATTERN_CHARS = 500
MAX_REPEAT_COUNT = 1000
MAX_NESTING = 50
# Per regex, per response: far above what a sane pattern needs on a long answer (microseconds),
# far below what a stalled checker would cost a run.
MATCH_BUDGET_S = 0.25

_AMBIGUOUS_HINT = (
    "a repeated part can match the same text in more than one way, so matching can take "
    "exponential time (rewrite it so each character has one way to match, e.g. '(a+)+' as "
    "'a+', '(.|\\s)*' as '[\\s\\S]*')"
)
_CATEGORY = {
    name: re.compile(cls)
    for name, cls in {
        "CATEGORY_DIGIT": r"\d", "CATEGORY_NOT_DIGIT": r"\D", "CATEGORY_SPACE": r"\s",
        "CATEGORY_NOT_SPACE": r"\S", "CATEGORY_WORD": r"\w", "CATEGORY_NOT_WORD": r"\W",
        "CATEGORY_LINEBREAK": r"\n", "CATEGORY_NOT_LINEBREAK": r"[^\n]",
    }.items()
}
# Beyond ASCII: accented letters, sharp s, long s, Kelvin sign (case-folding oddities),
# no-break/em space, line separator, an Arabic digit, a CJK letter, an emoji.
_SAMPLES = frozenset(chr(c) for c in range(128)) | frozenset(
    "\u00a0\u00e9\u00c9\u00df\u017f\u212a\u2003\u2028\u0663\u4e2d\U0001f600"
)
_EMPTY: frozenset = frozenset()


class UnsafePattern(ValueError):
    """A user-supplied pattern refused at validation; the message is the one-line reason."""


class MatchTimeout(Exception):
    """A search ran past its time budget; the check it belongs to fails instead of hanging."""

    def __init__(self, budget_s: float) -> None:
        super().__init__(f"regex timed out after {budget_s:g} s")


def check_pattern(pattern: str) -> None:
    """Raise UnsafePattern unless `pattern` compiles (with `re` and `regex`) and is safe to run."""
    shown = pattern if len(pattern) <= 60 else pattern[:57] + "..."
    if len(pattern) > MAX_PATTERN_CHARS:
        raise UnsafePattern(f"regex {shown!r} is {len(pattern)} characters (at most {MAX_PATTERN_CHARS})")
    try:
        tree = _sre_parse.parse(pattern)
        re.compile(pattern)
    except OverflowError:
        raise UnsafePattern(f"regex {pattern!r}: a repeat count is too large (at most {MAX_REPEAT_COUNT})") from None
    except RecursionError:
        raise UnsafePattern(f"regex {shown!r} nests too deeply (at most {MAX_NESTING} levels)") from None
    except (re.error, ValueError) as exc:
        raise UnsafePattern(f"invalid regex {pattern!r}: {exc}") from None
    try:
        repeats = _repeat_product(tree)
        problem = _Analysis(tree).problem()
    except RecursionError:
        repeats, problem = 0, f"nests too deeply (at most {MAX_NESTING} levels)"
    if repeats > MAX_REPEAT_COUNT:
        # `regex` writes fixed repeats out in full: `(a{1000}){1000}` alone takes ~300 MB.
        problem = f"repeats {repeats} times (at most {MAX_REPEAT_COUNT}; counts of nested repeats multiply)"
    if problem:
        raise UnsafePattern(f"unsafe regex {shown!r}: {problem}")
    try:  # only now: compiling an unchecked pattern with `regex` can exhaust memory
        _compiled(pattern)
    except (regex.error, ValueError, OverflowError, RecursionError) as exc:
        raise UnsafePattern(f"invalid regex {pattern!r}: {exc}") from None


def search(pattern: str, text: str, budget_s: float = MATCH_BUDGET_S) -> Optional[Any]:
    """The first match of `pattern` in `text` (a `regex` match object), or None.

    Raises MatchTimeout when the search takes longer than `budget_s` seconds.
    """
    try:
        return _compiled(pattern).search(text, timeout=budget_s)
    except TimeoutError:
        raise MatchTimeout(budget_s) from None


@functools.lru_cache(maxsize=256)
def _compiled(pattern: str) -> Any:
    return regex.compile(pattern, flags=regex.V0)


class _Analysis:
    """First/follow-set walk of a parse tree; finds the first problem, in pattern order."""

    def __init__(self, tree: Any) -> None:
        self.tree = tree
        flags = tree.state.flags
        # Case-insensitive anywhere makes every comparison fold case: it can only refuse more.
        self.fold = bool(flags & re.IGNORECASE) or _mentions_ignorecase(tree)
        self.alphabet = _SAMPLES | frozenset(_named_chars(tree))
        self._firsts: dict[int, tuple[frozenset, bool]] = {}

    def problem(self) -> Optional[str]:
        return self._seq(list(self.tree), _EMPTY, in_repeat=False, depth=0)

    # -- the walk: `follow` is what may come right after the item, `in_repeat` whether a
    # repeat that runs more than once encloses it (only there does ambiguity multiply).
    def _seq(self, items: list, follow: frozenset, in_repeat: bool, depth: int) -> Optional[str]:
        follows, after = [], follow
        for item in reversed(items):
            follows.append(after)
            first, nullable = self._first(item)
            after = first | after if nullable else first
        for item, item_follow in zip(items, reversed(follows)):
            found = self._node(item, item_follow, in_repeat, depth)
            if found:
                return found
        return None

    def _node(self, node: tuple, follow: frozenset, in_repeat: bool, depth: int) -> Optional[str]:
        op, av = str(node[0]), node[1]
        if depth > MAX_NESTING:
            return f"nests too deeply (at most {MAX_NESTING} levels)"
        if op in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT"):
            lo, hi, body = av
            first, _ = self._first_seq(list(body))
            # A variable repeat chooses "once more or stop" at every step: ambiguous when the
            # next iteration and what follows can start with the same character.
            if in_repeat and lo < hi and self._overlap(first, follow):
                return _AMBIGUOUS_HINT
            inner = _EMPTY if op == "POSSESSIVE_REPEAT" else follow
            if hi > 1:
                inner = inner | first
            return self._seq(list(body), inner, in_repeat or hi > 1, depth + 1)
        if op == "BRANCH":
            starts = []
            for alt in av[1]:
                first, nullable = self._first_seq(list(alt))
                starts.append((first | follow if nullable else first, nullable))
            if in_repeat:
                for j, (first, nullable) in enumerate(starts):
                    for other, other_nullable in starts[:j]:
                        if (nullable and other_nullable) or self._overlap(first, other):
                            return _AMBIGUOUS_HINT
            for alt in av[1]:
                found = self._seq(list(alt), follow, in_repeat, depth + 1)
                if found:
                    return found
            return None
        if op == "SUBPATTERN":
            return self._seq(list(av[-1]), follow, in_repeat, depth + 1)
        if op == "ATOMIC_GROUP":
            return self._seq(list(av), _EMPTY, in_repeat, depth + 1)
        if op in ("ASSERT", "ASSERT_NOT"):
            return self._seq(list(av[1]), _EMPTY, in_repeat, depth + 1)
        if op == "GROUPREF_EXISTS":
            for branch in av[1:]:
                if branch is None:
                    continue
                found = self._seq(list(branch), follow, in_repeat, depth + 1)
                if found:
                    return found
        return None

    # -- first sets: (characters an item can start with, whether it can match empty)
    def _first_seq(self, items: list) -> tuple[frozenset, bool]:
        chars: frozenset = _EMPTY
        for item in items:
            first, nullable = self._first(item)
            chars |= first
            if not nullable:
                return chars, False
        return chars, True

    def _first(self, node: tuple) -> tuple[frozenset, bool]:
        key = id(node)  # the tree outlives the walk, so ids stay unique
        if key not in self._firsts:
            self._firsts[key] = self._first_uncached(node)
        return self._firsts[key]

    def _first_uncached(self, node: tuple) -> tuple[frozenset, bool]:
        op, av = str(node[0]), node[1]
        if op == "LITERAL":
            return frozenset(chr(av)), False
        if op == "NOT_LITERAL":
            return self.alphabet - {chr(av)}, False
        if op == "ANY":
            return self.alphabet, False
        if op == "IN":
            return frozenset(c for c in self.alphabet if _in_class(av, c)), False
        if op in ("AT", "ASSERT", "ASSERT_NOT"):
            return _EMPTY, True
        if op == "SUBPATTERN":
            return self._first_seq(list(av[-1]))
        if op == "ATOMIC_GROUP":
            return self._first_seq(list(av))
        if op in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT"):
            lo, hi, body = av
            first, nullable = self._first_seq(list(body))
            return (first, nullable or lo == 0) if hi > 0 else (_EMPTY, True)
        if op == "BRANCH":
            parts = [self._first_seq(list(alt)) for alt in av[1]]
            return frozenset().union(*(p[0] for p in parts)), any(p[1] for p in parts)
        if op == "FAILURE":
            return _EMPTY, False
        # Back-references, conditionals and anything unknown: could start with anything, or
        # match nothing at all — the assumption that refuses more, never less.
        return self.alphabet, True

    def _overlap(self, a: frozenset, b: frozenset) -> bool:
        if self.fold:
            return bool({c.lower() for c in a} & {c.lower() for c in b})
        return bool(a & b)


def _in_class(items: list, char: str) -> bool:
    """Whether `char` is in the character class given by a parse tree's IN items."""
    negate = bool(items) and str(items[0][0]) == "NEGATE"
    found = False
    for op, av in items[1:] if negate else items:
        op = str(op)
        if op == "LITERAL":
            found = ord(char) == av
        elif op == "RANGE":
            found = av[0] <= ord(char) <= av[1]
        elif op == "CATEGORY":
            pattern = _CATEGORY.get(str(av))
            found = pattern is None or pattern.fullmatch(char) is not None
        else:
            found = True
        if found:
            break
    return found != negate


def _repeat_product(tree: Any, outer: int = 1) -> int:
    """The largest product of repeat counts along any path of nested repeats (`*` counts its
    minimum: an open-ended loop is run, not written out)."""
    worst = outer
    for op, av in tree:
        op = str(op)
        scale = outer
        if op in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT"):
            lo, hi, _ = av
            scale = outer * (hi if hi != MAXREPEAT else max(lo, 1))
        worst = max(worst, scale, *(_repeat_product(child, scale) for child in _children(op, av)))
    return worst


def _walk(tree: Any):
    """Every (op name, argument) node of a parse tree, depth first."""
    for op, av in tree:
        yield str(op), av
        for child in _children(str(op), av):
            yield from _walk(child)


def _children(op: str, av: Any) -> list:
    if op in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT"):
        return [av[2]]
    if op == "SUBPATTERN":
        return [av[-1]]
    if op == "BRANCH":
        return list(av[1])
    if op == "ATOMIC_GROUP":
        return [av]
    if op in ("ASSERT", "ASSERT_NOT"):
        return [av[1]]
    if op == "GROUPREF_EXISTS":
        return [branch for branch in av[1:] if branch is not None]
    return []


def _named_chars(tree: Any) -> set[str]:
    chars: set[str] = set()
    for op, av in _walk(tree):
        if op in ("LITERAL", "NOT_LITERAL"):
            chars.add(chr(av))
        elif op == "IN":
            for item_op, item_av in av:
                if str(item_op) == "LITERAL":
                    chars.add(chr(item_av))
                elif str(item_op) == "RANGE":
                    chars.update((chr(item_av[0]), chr(item_av[1])))
    return chars


def _mentions_ignorecase(tree: Any) -> bool:
    return any(op == "SUBPATTERN" and av[1] & re.IGNORECASE for op, av in _walk(tree))
