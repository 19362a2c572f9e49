"""Tests for the prompt-pool loaders, the shipped pools and the sample data files."""

from __future__ import annotations

import itertools
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from simbench.errors import InputError
from simbench.prompts import (
    GeneralQuestion,
    Prompt,
    check_disjoint,
    load_general,
    load_prompts,
    load_signal_cases,
    normalise_text,
    pool_hash,
    score_general,
)

REPO = Path(__file__).resolve().parents[3]
SAMPLE_CONVERSATIONS = REPO / "examples" / "conversations.sample.jsonl"
SIGNAL_PREFERENCES = {
    "concise", "no-emojis", "no-filler-praise", "no-closing-offer", "no-lists", "no-exclamation",
    "formal", "casual", "answer-first", "ends-with-question", "detailed", "emojis",
}
_STOP = set(
    "a an the i my to of in do how what what's is it can for and or on with should why you "
    "your me be are at this that does when i'm we our so".split()
)


def write(tmp_path: Path, content: str | bytes, name: str = "pool.jsonl") -> Path:
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path


def load_error(path: Path) -> str:
    with pytest.raises(InputError) as info:
        load_prompts(str(path))
    return str(info.value)


def content_jaccard(a: str, b: str) -> float:
    """Overlap of content words: catches reworded near-duplicates that exact matching misses."""
    words_a = set(re.findall(r"[a-z0-9']+", a.casefold())) - _STOP
    words_b = set(re.findall(r"[a-z0-9']+", b.casefold())) - _STOP
    return len(words_a & words_b) / max(1, len(words_a | words_b))


# ---------------------------------------------------------------------------- loader errors


def test_malformed_json_names_file_and_line(tmp_path):
    path = write(tmp_path, '{"text": "fine"}\n{"text": "broken"\n')
    message = load_error(path)
    assert "pool.jsonl" in message and "line 2" in message and "malformed JSON" in message


def test_missing_text_names_line_and_field(tmp_path):
    path = write(tmp_path, '{"id": "a", "category": "x"}\n')
    message = load_error(path)
    assert "pool.jsonl, line 1" in message and "'text'" in message and "missing" in message


def test_empty_text_is_rejected(tmp_path):
    path = write(tmp_path, '{"text": "ok"}\n{"text": "   "}\n')
    message = load_error(path)
    assert "line 2" in message and "'text'" in message and "empty" in message


@pytest.mark.parametrize(
    ("line", "field"),
    [('{"text": 5}', "text"), ('{"text": "hi", "id": 7}', "id"), ('{"text": "hi", "category": ["a"]}', "category")],
)
def test_non_string_field_names_field_and_type(tmp_path, line, field):
    message = load_error(write(tmp_path, line + "\n"))
    assert "line 1" in message and f"'{field}'" in message and "must be a string" in message


def test_empty_id_is_rejected(tmp_path):
    message = load_error(write(tmp_path, '{"text": "hi", "id": ""}\n'))
    assert "'id'" in message and "empty" in message


def test_duplicate_ids_name_both_lines(tmp_path):
    path = write(tmp_path, '{"id": "a", "text": "one"}\n{"id": "b", "text": "two"}\n{"id": "a", "text": "three"}\n')
    message = load_error(path)
    assert "line 3" in message and "'id'" in message and "'a'" in message and "line 1" in message


def test_generated_id_colliding_with_explicit_id_is_a_duplicate(tmp_path):
    path = write(tmp_path, '{"id": "pool-2", "text": "one"}\n{"text": "two"}\n')
    message = load_error(path)
    assert "duplicate id 'pool-2'" in message and "line 2" in message


@pytest.mark.parametrize("content", ["", "\n  \n\n"])
def test_empty_file_is_rejected(tmp_path, content):
    message = load_error(write(tmp_path, content))
    assert "pool.jsonl" in message and "empty" in message


def test_non_utf8_bytes_name_the_line(tmp_path):
    path = write(tmp_path, b'{"text": "fine"}\n{"text": "caf\xe9"}\n')
    message = load_error(path)
    assert "line 2" in message and "UTF-8" in message and "0xe9" in message


def test_line_that_is_not_an_object_is_rejected(tmp_path):
    message = load_error(write(tmp_path, '["just", "a", "list"]\n'))
    assert "line 1" in message and "JSON object" in message and "list" in message


def test_unknown_field_is_named_with_suggestion(tmp_path):
    message = load_error(write(tmp_path, '{"text": "hi", "categry": "x"}\n'))
    assert "'categry'" in message and "unknown field" in message and "category" in message


def test_unknown_builtin_suggests_closest_name():
    with pytest.raises(InputError) as info:
        load_prompts("builtin:trian")
    assert "unknown builtin 'trian'" in str(info.value) and "did you mean 'builtin:train'" in str(info.value)


def test_missing_file_is_named(tmp_path):
    with pytest.raises(InputError) as info:
        load_prompts("nope.jsonl", base_dir=tmp_path)
    assert str(tmp_path / "nope.jsonl") in str(info.value) and "not found" in str(info.value)


def test_loader_errors_carry_exit_code_2(tmp_path):
    with pytest.raises(InputError) as info:
        load_prompts(str(write(tmp_path, "{")))
    assert info.value.exit_code == 2


# ---------------------------------------------------------------------------- loader success


def test_missing_id_and_category_get_defaults(tmp_path):
    path = write(tmp_path, '\n{"text": "first"}\n{"id": "x", "text": "second", "category": "advice"}\n', "mine.jsonl")
    prompts = load_prompts(str(path))
    assert prompts == [Prompt("mine-2", "first", ""), Prompt("x", "second", "advice")]


def test_relative_path_resolves_against_base_dir(tmp_path):
    (tmp_path / "pools").mkdir()
    write(tmp_path / "pools", '{"text": "hello"}\n', "p.jsonl")
    assert load_prompts("pools/p.jsonl", base_dir=tmp_path)[0].text == "hello"


def test_byte_order_mark_is_tolerated(tmp_path):
    path = write(tmp_path, b'\xef\xbb\xbf{"text": "hello"}\n')
    assert load_prompts(str(path))[0].text == "hello"


def test_check_disjoint_names_clashing_ids_after_normalisation():
    train = [Prompt("t1", "Why is the sky blue?"), Prompt("t2", "How do tides work?")]
    probe = [Prompt("p1", "  why IS the   sky blue? "), Prompt("p2", "Why do we dream?")]
    with pytest.raises(InputError) as info:
        check_disjoint(train, probe, where="persona.yaml, field 'prompts'")
    message = str(info.value)
    assert "persona.yaml" in message and "p1 = t1" in message and "p2" not in message


def test_check_disjoint_accepts_disjoint_pools():
    check_disjoint([Prompt("t1", "Why is the sky blue?")], [Prompt("p1", "Why is grass green?")], where="x")


def test_pool_hash_depends_on_content_and_order():
    a, b = Prompt("1", "alpha", "c"), Prompt("2", "beta")
    assert pool_hash([a, b]) == pool_hash([Prompt("1", "alpha", "c"), Prompt("2", "beta")])
    assert pool_hash([a, b]) != pool_hash([b, a])
    assert pool_hash([a, b]) != pool_hash([a, Prompt("2", "beta ")])
    assert pool_hash([a, b]) != pool_hash([Prompt("1", "alpha", "d"), b])
    assert re.fullmatch(r"[0-9a-f]{64}", pool_hash([a]))


def test_importing_prompts_does_not_import_torch():
    code = "import sys, simbench.prompts; sys.exit('torch' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0


# ---------------------------------------------------------------------------- builtin pools


def test_builtin_train_pool_is_large_varied_and_uniquely_identified():
    train = load_prompts("builtin:train")
    assert len(train) >= 300
    assert all(re.fullmatch(r"train-\d{4}", p.id) for p in train)
    assert len({p.id for p in train}) == len(train)
    assert len({normalise_text(p.text) for p in train}) == len(train)
    categories = {p.category for p in train}
    assert {"writing", "advice", "explanation", "how-to", "coding", "summary"} <= categories
    lengths = sorted(len(p.text.split()) for p in train)
    assert lengths[0] <= 6 and lengths[-1] >= 40  # short questions and long ones


def test_summary_prompts_include_the_text_to_summarise():
    summaries = [p for p in load_prompts("builtin:train") if p.category == "summary"]
    assert len(summaries) >= 20
    for prompt in summaries:
        instruction, _, given = prompt.text.partition(":")
        if not given.strip():
            instruction, _, given = prompt.text.partition("?")
        assert len(given.split()) >= 20, prompt.id


def test_builtin_probe_pool_has_enough_open_prompts():
    probe = load_prompts("builtin:probe")
    assert len(probe) >= 80
    assert all(re.fullmatch(r"probe-\d{3}", p.id) for p in probe)
    assert len({p.id for p in probe}) == len(probe)
    format_forcing = re.compile(
        r"\blist\b|\bbullet|\bin one word|\bone sentence|\bin \d+ words|\bstep[- ]by[- ]step|\btable\b", re.I
    )
    assert [p.id for p in probe if format_forcing.search(p.text)] == []


def test_builtin_train_and_probe_are_disjoint():
    check_disjoint(load_prompts("builtin:train"), load_prompts("builtin:probe"), where="builtin pools")


def test_content_jaccard_flags_a_reworded_duplicate():
    assert content_jaccard("How do I boil an egg so the yolk stays soft?", "How can I boil an egg so its yolk stays soft?") >= 0.6
    assert content_jaccard("Why is the sky blue?", "How do tides work?") < 0.6


def test_no_probe_prompt_is_a_near_duplicate_of_a_training_prompt():
    train, probe = load_prompts("builtin:train"), load_prompts("builtin:probe")
    near = [(p.id, t.id) for p in probe for t in train if content_jaccard(p.text, t.text) >= 0.6]
    assert near == []


AMBIGUOUS_POOLS = ("builtin:ambiguous-train", "builtin:ambiguous-probe")


def test_builtin_ambiguous_pools_hold_short_underspecified_requests():
    """The pools of `clarify-first`: requests that leave out what an answer needs (which trip,
    whose resume), so asking first is the right move on every one of them."""
    for ref, stem, size in zip(AMBIGUOUS_POOLS, ("amb-train", "amb-probe"), (60, 24)):
        prompts = load_prompts(ref)
        assert len(prompts) >= size
        assert all(re.fullmatch(rf"{stem}-\d{{3}}", p.id) and p.category == "ambiguous" for p in prompts)
        assert len({normalise_text(p.text) for p in prompts}) == len(prompts)
        assert max(len(p.text.split()) for p in prompts) <= 10, ref  # no context is given


def test_ambiguous_pools_share_no_prompt_with_each_other_or_the_other_pools():
    pools = {ref: load_prompts(ref) for ref in ("builtin:train", "builtin:probe", *AMBIGUOUS_POOLS)}
    for a, b in itertools.combinations(pools, 2):
        if a in AMBIGUOUS_POOLS or b in AMBIGUOUS_POOLS:
            near = [(x.id, y.id) for x in pools[a] for y in pools[b] if content_jaccard(x.text, y.text) >= 0.6]
            assert near == [], (a, b)
    check_disjoint(*(pools[ref] for ref in AMBIGUOUS_POOLS), where="ambiguous pools")


def test_a_persona_can_train_and_probe_on_the_ambiguous_pools():
    from simbench.persona.loader import load_persona_prompts, parse_persona

    persona = parse_persona({
        "id": "asker", "name": "Asker", "background": "Sends vague requests.", "interactions": 10,
        "prompts": {"train": AMBIGUOUS_POOLS[0], "probe": AMBIGUOUS_POOLS[1]},
        "schedule": [{"at": 0, "preferences": ["clarify-first"]}],
    }, "asker.yaml")
    train, probe = load_persona_prompts(persona)
    assert train[0].id == "amb-train-001" and probe[-1].id == "amb-probe-024"


@pytest.mark.parametrize("pool", ["builtin:train", "builtin:probe", *AMBIGUOUS_POOLS])
def test_no_near_duplicates_within_a_builtin_pool(pool):
    prompts = load_prompts(pool)
    near = [(a.id, b.id) for a, b in itertools.combinations(prompts, 2) if content_jaccard(a.text, b.text) >= 0.7]
    assert near == []


# ---------------------------------------------------------------------------- general questions


def test_builtin_general_questions_load():
    items = load_general()
    assert len(items) >= 40
    assert len({item.id for item in items}) == len(items)
    assert all(item.question.endswith("?") and item.answer for item in items)


def test_every_general_answer_scores_correct_in_a_sentence():
    for item in load_general():
        assert score_general(f"I think the answer is {item.answer}.", item), item.id
        for alias in item.aliases:
            assert score_general(f"{alias.upper()}, of course", item), (item.id, alias)


def test_general_answers_do_not_score_other_questions():
    items = load_general()
    for item, other in itertools.permutations(items, 2):
        if {item.answer, *item.aliases} & {other.answer, *other.aliases}:
            continue
        assert not score_general(f"The answer is {other.answer}.", item), (item.id, other.id)


def test_score_general_matches_whole_words_and_numbers_only():
    twelve = GeneralQuestion("q", "How many inches are in a foot?", "12", ("twelve",))
    assert score_general("There are 12 inches in a foot.", twelve)
    assert score_general("Twelve.", twelve)
    assert not score_general("There are 120 inches.", twelve)
    assert not score_general("About 1.2 inches.", twelve)
    assert not score_general("Exactly 12.5 inches.", twelve)
    assert not score_general("Twelveish inches.", twelve)
    paris = GeneralQuestion("c", "Capital of France?", "Paris")
    assert score_general("It's PARIS!", paris)
    assert not score_general("It's Parisian in style, the capital is Lyon.", paris)
    assert not score_general("", paris)


def test_load_general_rejects_bad_aliases(tmp_path):
    path = write(tmp_path, '{"id": "g", "question": "2+2?", "answer": "4", "aliases": "four"}\n', "g.jsonl")
    with pytest.raises(InputError) as info:
        load_general(str(path))
    assert "g.jsonl, line 1" in str(info.value) and "'aliases'" in str(info.value)


def test_load_general_rejects_missing_answer(tmp_path):
    path = write(tmp_path, '{"id": "g", "question": "2+2?"}\n', "g.jsonl")
    with pytest.raises(InputError) as info:
        load_general(str(path))
    assert "line 1" in str(info.value) and "'answer'" in str(info.value)


# ---------------------------------------------------------------------------- signal cases


def test_builtin_signal_cases_cover_the_preferences():
    cases = load_signal_cases()
    assert len(cases) >= 14
    assert len({c.id for c in cases}) == len(cases)
    assert {c.preference for c in cases} == SIGNAL_PREFERENCES
    assert {c.kind for c in cases} == {"constraining", "reinforcing"}
    assert all(c.relevant != c.unrelated for c in cases)


def test_conciseness_cases_pair_a_long_response_with_a_short_answer_request():
    concise = [c for c in load_signal_cases() if c.preference == "concise" and c.kind == "constraining"]
    assert len(concise) >= 4
    for case in concise:
        sentences = [s for s in re.split(r"(?<=[.!?])\s+", case.response.strip()) if s]
        assert len(sentences) >= 5, case.id
        assert re.search(r"sentence|shorter", case.relevant, re.I), case.id
        assert not re.search(r"sentence|short|long", case.unrelated, re.I), case.id


def test_load_signal_cases_rejects_unknown_kind(tmp_path):
    case = {"id": "s", "preference": "concise", "kind": "constraint", "prompt": "p", "response": "r",
            "relevant": "a", "unrelated": "b"}
    path = write(tmp_path, json.dumps(case) + "\n", "s.jsonl")
    with pytest.raises(InputError) as info:
        load_signal_cases(str(path))
    assert "s.jsonl, line 1, field 'kind'" in str(info.value) and "constraining" in str(info.value)


# ---------------------------------------------------------------------------- sample conversations


def read_conversations() -> list[list[dict]]:
    lines = SAMPLE_CONVERSATIONS.read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def test_sample_conversations_are_well_formed():
    conversations = read_conversations()
    assert len(conversations) >= 20
    for number, messages in enumerate(conversations, start=1):
        assert isinstance(messages, list) and all(set(m) == {"role", "content"} for m in messages), number
        assert all(isinstance(m["content"], str) and m["content"].strip() for m in messages), number
        turns = messages[1:] if messages[0]["role"] == "system" else messages
        assert 4 <= len(turns) <= 8, number
        expected = ["user", "assistant"] * 4
        assert [m["role"] for m in turns] == expected[: len(turns)], number


def test_sample_conversations_mix_style_feedback_and_new_questions():
    feedback = re.compile(
        r"too long|shorter|sentence|list|bullet|emoji|formal|professional|chill|casual|exclamation|"
        r"answer first|start with the answer|compliment|offer|question back|follow-up question|too short|"
        r"too brief|proper explanation|paragraph", re.I,
    )
    new_topic = re.compile(r"\b(unrelated|different question|random|also|totally different)\b", re.I)
    conversations = read_conversations()
    later_user_turns = [[m["content"] for m in c if m["role"] == "user"][1:] for c in conversations]
    assert sum(any(feedback.search(t) for t in turns) for turns in later_user_turns) >= 15
    assert sum(any(new_topic.search(t) for t in turns) for turns in later_user_turns) >= 5
