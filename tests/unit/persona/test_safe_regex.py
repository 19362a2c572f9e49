"""User-supplied regexes (persona `forbid_regex`/`require_regex`) can neither hang nor crash a
run: catastrophic shapes are refused at validation in one line, and every search has a budget."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest
import yaml
from cli_inprocess import run_main

from simbench.errors import InputError
from simbench.persona.loader import load_persona
from simbench.persona.local import DeclarativeChecker
from simbench.persona.safe_regex import (
    MATCH_BUDGET_S,
    MAX_PATTERN_CHARS,
    MatchTimeout,
    check_pattern,
    search,
)
from simbench.scoring import Scorer

# Wall-clock slack on a shared CI machine; the `regex` package checks its clock between steps,
# so a timed-out search can overrun the budget by about the budget again.
MARGIN_S = 1.0
BOUND_S = 2 * MATCH_BUDGET_S + MARGIN_S

# Classic ReDoS shapes (OWASP, Davis et al.), each with an input that makes a backtracking engine
# try every way of splitting it.
CATASTROPHIC = {
    r"(a+)+$": "a" * 140 + "!",
    r"([a-zA-Z]+)*$": "a" * 140 + "1",
    r"(a|aa)+$": "a" * 140 + "!",
    r"(a|a)*$": "a" * 140 + "!",
    r"(a*)*$": "a" * 140 + "!",
    r"(a|a?)+$": "a" * 140 + "!",
    r"(.*a){20}": "a" * 140,
    r"^(\w+\s?)*$": "aaa a" * 30 + "!",
    r"(.|\s)*BANNED": "a " * 70,
    r"(x+x+)+y": "x" * 140,
    r"^(([a-z])+.)+[A-Z]([a-z])+$": "a" * 140 + "!",
    r"(\s*\w+)*!": "word " * 30,
    r"(?:.*?,){10}X": "a," * 70,
    r"(a?){30}a{30}": "a" * 140,
    r"(?=(a+)+$)": "a" * 140 + "!",
    r"^([a-zA-Z0-9])(([\-.]|[_]+)?([a-zA-Z0-9]+))*(@){1}[a-z0-9]+[.]{1}(([a-z]{2,3})|([a-z]{2,3}[.]{1}[a-z]{2,3}))$":
        "a" * 140 + "!",
}
ORDINARY = [r"\bplease\b", r"^#+ ", r"[!?]{2,}", r"(?i)sorry", r"\d{3}-\d{4}", r"(?m)^\s*[-*] ",
            r"(\w+\s)+done", r"(\d{1,3}\.){3}\d{1,3}", r"(?i)\b(as an ai|i cannot)\b", r"[\U0001F300-\U0001FAFF]",
            r"(?<!\w)foo(?!\w)", r"(\w+)\s+\1", r"(?:\r\n|\n){2,}", r"a{1000}"]
TEXTS = ["Sorry, please call 555-1234!!", "# Title\n- item one\n* item two\n", "the the cat", "foo, food",
         "10.0.0.1 is an IP", "As an AI I cannot", "I \U0001F600 it\n\n\nok", "words then done", "", "a" * 1000]
# Passes the analysis (no repeat encloses an ambiguous choice), yet a backtracking engine takes
# time polynomial of degree 8 on a run of a's: only the match budget stops it.
SLIPS_THROUGH = r"\w*a" * 8 + "b"


def persona_file(tmp_path: Path, check: dict) -> Path:
    data = {
        "id": "regex-user",
        "name": "Regex user",
        "background": "Someone with opinions about words.",
        "interactions": 10,
        "preferences": [{
            "id": "no-banned",
            "description": "Never says the banned word.",
            "complaints": ["Please drop that word."],
            "check": check,
        }],
        "schedule": [{"at": 0, "preferences": ["no-banned"]}],
    }
    path = tmp_path / "regex-user.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def refusal(tmp_path: Path, pattern: str, field: str = "forbid_regex") -> str:
    path = persona_file(tmp_path, {field: pattern})
    with pytest.raises(InputError) as info:
        load_persona(path, check_prompts=False)
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith(f"{path}: preferences[0].check.{field}: ")
    return message


@pytest.mark.parametrize("pattern", list(CATASTROPHIC))
def test_classic_redos_pattern_is_refused_at_validation_with_one_line(pattern, tmp_path):
    assert "unsafe regex" in refusal(tmp_path, pattern)


@pytest.mark.parametrize("pattern", list(CATASTROPHIC))
def test_classic_redos_pattern_returns_within_budget_even_when_validation_is_bypassed(pattern):
    checker = DeclarativeChecker(forbid_regex=pattern)
    start = time.perf_counter()
    checker(CATASTROPHIC[pattern])
    assert time.perf_counter() - start < BOUND_S


def test_huge_repeat_count_is_a_one_line_refusal_not_an_overflow(tmp_path):
    assert "repeat count is too large" in refusal(tmp_path, "a{4294967296}")
    assert "repeats 1001 times (at most 1000" in refusal(tmp_path, "a{1001}", field="require_regex")


def test_nested_repeat_counts_multiply_so_compiling_cannot_exhaust_memory(tmp_path):
    # `regex` writes fixed repeats out: this one alone would take ~300 MB, one more level the machine.
    assert "repeats 1000000 times" in refusal(tmp_path, "(a{1000}){1000}")
    assert "repeats 1000000000 times" in refusal(tmp_path, "((a{1000}){1000}){1000}")
    check_pattern(r"(\d{1,3}\.){3}\d{1,3}")


def test_overlong_and_deeply_nested_patterns_are_refused(tmp_path):
    assert f"at most {MAX_PATTERN_CHARS}" in refusal(tmp_path, "x" * (MAX_PATTERN_CHARS + 1))
    assert "nests too deeply" in refusal(tmp_path, "(" * 60 + "a" + ")" * 60)


def test_invalid_pattern_still_names_the_syntax_error(tmp_path):
    assert "invalid regex '(unclosed'" in refusal(tmp_path, "(unclosed")


@pytest.mark.parametrize("pattern", ORDINARY)
def test_ordinary_pattern_validates_and_matches_as_re_would(pattern):
    check_pattern(pattern)
    for text in TEXTS:
        expected = re.search(pattern, text)
        found = search(pattern, text)
        assert (found and found.group(0)) == (expected and expected.group(0)), (pattern, text)


def test_search_past_its_budget_raises_match_timeout():
    check_pattern(SLIPS_THROUGH)  # the analysis lets it through; the budget is what stops it
    start = time.perf_counter()
    with pytest.raises(MatchTimeout, match=r"regex timed out after 0\.05 s"):
        search(SLIPS_THROUGH, "a" * 3000, budget_s=0.05)
    assert time.perf_counter() - start < 2 * 0.05 + MARGIN_S


@pytest.mark.parametrize("field", ["forbid_regex", "require_regex"])
def test_probe_scoring_fails_a_timed_out_check_instead_of_hanging(field, tmp_path):
    persona = load_persona(persona_file(tmp_path, {field: SLIPS_THROUGH}), check_prompts=False)
    preference = persona.preference("no-banned")
    start = time.perf_counter()
    [outcome] = Scorer().outcomes([(preference, "Say a lot of a's.", "a" * 3000)])
    assert time.perf_counter() - start < BOUND_S
    assert outcome.passed is False
    assert outcome.evidence == f"{field}: regex timed out after {MATCH_BUDGET_S:g} s"


def test_personas_validate_refuses_a_catastrophic_regex_with_exit_2_and_one_line(tmp_path, capsys):
    path = persona_file(tmp_path, {"forbid_regex": r"(.|\s)*BANNED"})
    code, out, err = run_main(capsys, "personas", "validate", path)
    assert code == 2
    assert out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in err
    assert str(path) in lines[0] and "forbid_regex" in lines[0] and "unsafe regex" in lines[0]

