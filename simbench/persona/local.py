"""Checkers for persona-local preferences, built from a declarative `check:` block.

Words and sentences are counted exactly as the built-in checkers count them (code ignored,
list items and headings are sentences), so `max_sentences: 2` agrees with `concise`. The
regexes run under a time budget (`safe_regex`): a search that runs out of it fails the check.
The file format (`spec.py`) builds these checkers, so this module never names its models.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from simbench.persona.preference import CheckResult
from simbench.persona.safe_regex import MatchTimeout, search
from simbench.persona.text import prose, sentences, words

EVIDENCE_CHARS = 60


def count_words(text: str) -> int:
    """Words in the prose of `text` ("don't" and "well-known" are one word; code is ignored)."""
    return len(words(prose(text)))


def count_sentences(text: str) -> int:
    """Sentences in the prose of `text`; each list item and heading counts as one."""
    return len(sentences(prose(text)))


@dataclass(frozen=True)
class DeclarativeChecker:
    """A pure checker that passes when every condition set on it holds."""

    max_words: Optional[int] = None
    min_words: Optional[int] = None
    max_sentences: Optional[int] = None
    forbid_regex: Optional[str] = None
    require_regex: Optional[str] = None

    def __call__(self, text: str) -> CheckResult:
        problems = []
        if self.max_words is not None or self.min_words is not None:
            words = count_words(text)
            if self.max_words is not None and words > self.max_words:
                problems.append(f"{words} words (max {self.max_words})")
            if self.min_words is not None and words < self.min_words:
                problems.append(f"{words} words (min {self.min_words})")
        if self.max_sentences is not None:
            sentences = count_sentences(text)
            if sentences > self.max_sentences:
                problems.append(f"{sentences} sentences (max {self.max_sentences})")
        if self.forbid_regex is not None:
            try:
                match = search(self.forbid_regex, text)
                if match:
                    problems.append(f"forbidden {match.group(0)[:EVIDENCE_CHARS]!r}")
            except MatchTimeout as timeout:
                # Fail, never hang: a pattern validation let through still cannot stall a run.
                problems.append(f"forbid_regex: {timeout}")
        if self.require_regex is not None:
            try:
                if not search(self.require_regex, text):
                    problems.append(f"missing a match of {self.require_regex!r}")
            except MatchTimeout as timeout:
                problems.append(f"require_regex: {timeout}")
        return CheckResult(passed=not problems, evidence="; ".join(problems))
