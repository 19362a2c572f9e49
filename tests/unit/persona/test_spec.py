"""Persona file validation: every rule fails early with file, field and value in one line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from simbench.errors import InputError
from simbench.paths import REPO_ROOT, shipped_personas
from simbench.persona.loader import MAX_BYTES, load_persona, load_persona_prompts
from simbench.persona.local import count_sentences, count_words
from simbench.persona.spec import LocalCheck, LocalPreference, Noise, Persona, Phase, PromptRefs


def base() -> dict:
    return {
        "id": "tester",
        "name": "Tester",
        "background": "Someone who tests.",
        "interactions": 40,
        "schedule": [{"at": 0, "preferences": ["concise"]}, {"at": 20, "preferences": ["detailed"]}],
    }


def local_pref(**overrides) -> dict:
    pref = {
        "id": "two-lines",
        "description": "At most two sentences.",
        "complaints": ["Two sentences at most, please."],
        "check": {"max_sentences": 2},
    }
    pref.update(overrides)
    return pref


def write(tmp_path: Path, data: dict | str | bytes, name: str = "p.yaml") -> Path:
    path = tmp_path / name
    if isinstance(data, bytes):
        path.write_bytes(data)
    else:
        path.write_text(data if isinstance(data, str) else yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def error(tmp_path: Path, data: dict | str | bytes) -> str:
    path = write(tmp_path, data)
    with pytest.raises(InputError) as info:
        load_persona(path, check_prompts=False)
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith(str(path))
    return message[len(str(path)) + 2 :]


# ------------------------------------------------------------------ schedule rules


def test_valid_persona_loads_and_keeps_its_source(tmp_path):
    path = write(tmp_path, base())
    persona = load_persona(path, check_prompts=False)
    assert persona.id == "tester" and persona.source == path
    assert [p.at for p in persona.schedule] == [0, 20]


def test_unknown_preference_names_field_value_and_closest_id(tmp_path):
    data = base()
    data["schedule"][1]["preferences"] = ["no-emoji"]
    assert error(tmp_path, data) == "schedule[1].preferences[0]: unknown preference 'no-emoji' (did you mean 'no-emojis'?)"


def test_unknown_preference_without_close_match_lists_known_ids(tmp_path):
    data = base()
    data["schedule"][0]["preferences"] = ["zzzzzz"]
    message = error(tmp_path, data)
    assert "unknown preference 'zzzzzz'" in message and "choices:" in message and "no-emojis" in message


def test_unordered_phases_are_rejected(tmp_path):
    data = base()
    data["schedule"].append({"at": 10, "preferences": ["concise"]})
    assert error(tmp_path, data).startswith("schedule[2].at: phase starts at 10, before schedule[1] at 20")


def test_duplicate_phase_start_is_rejected(tmp_path):
    data = base()
    data["schedule"][1]["at"] = 0
    assert error(tmp_path, data).startswith("schedule[1].at: duplicate phase start 0")


def test_first_phase_must_start_at_zero(tmp_path):
    data = base()
    data["schedule"][0]["at"] = 5
    assert error(tmp_path, data).startswith("schedule[0].at: the first phase must start at 0, got 5")


def test_preference_and_its_opposite_cannot_be_active_together(tmp_path):
    data = base()
    data["schedule"][1]["preferences"] = ["emojis", "concise", "no-emojis"]
    assert error(tmp_path, data).startswith("schedule[1].preferences[2]: 'no-emojis' and its opposite 'emojis' are active together")


def test_local_preference_and_its_builtin_opposite_cannot_be_active_together(tmp_path):
    data = base()
    data["preferences"] = [local_pref(opposite="detailed")]
    data["schedule"][1]["preferences"] = ["detailed", "two-lines"]
    assert "'two-lines' and its opposite 'detailed' are active together" in error(tmp_path, data)


def test_negative_phase_start_is_rejected(tmp_path):
    data = base()
    data["schedule"][1]["at"] = -3
    assert error(tmp_path, data) == "schedule[1].at: must be >= 0, got -3"


def test_empty_schedule_is_rejected(tmp_path):
    data = base()
    data["schedule"] = []
    assert error(tmp_path, data) == "schedule: must not be empty"


def test_phase_at_or_beyond_episode_length_is_rejected(tmp_path):
    data = base()
    data["schedule"][1]["at"] = 40
    assert error(tmp_path, data).startswith("schedule[1].at: phase starts at 40, beyond the episode (interactions: 40)")


def test_duplicate_preference_in_one_phase_is_rejected(tmp_path):
    data = base()
    data["schedule"][0]["preferences"] = ["concise", "casual", "concise"]
    assert error(tmp_path, data) == "schedule[0].preferences[2]: duplicate preference 'concise' in one phase"


def test_empty_phase_is_rejected(tmp_path):
    data = base()
    data["schedule"][0]["preferences"] = []
    assert error(tmp_path, data) == "schedule[0].preferences: must not be empty"


def test_phase_repeating_the_previous_one_is_rejected(tmp_path):
    data = base()
    data["schedule"][1]["preferences"] = ["concise"]
    assert error(tmp_path, data).startswith("schedule[1].preferences: same preferences as schedule[0]")


# ------------------------------------------------------------------ local preferences


def test_local_preference_with_a_builtin_id_keeps_its_own_definition_with_a_warning(tmp_path):
    data = base()
    data["preferences"] = [local_pref(id="concise")]
    persona = Persona.model_validate(data)
    assert persona.preference("concise").description == data["preferences"][0]["description"]
    assert persona.preference("concise").check("one two three four").passed
    assert persona.warnings() == ["preferences[0].id: 'concise' is also a built-in preference id; this persona "
                                  "uses its own definition (rename it to silence this)"]
    assert Persona.model_validate(base()).warnings() == []


def test_duplicate_local_preference_ids_are_rejected(tmp_path):
    data = base()
    data["preferences"] = [local_pref(), local_pref()]
    assert error(tmp_path, data) == "preferences[1].id: duplicate local preference id 'two-lines'"


def test_local_opposite_must_exist(tmp_path):
    data = base()
    data["preferences"] = [local_pref(opposite="detaild")]
    assert error(tmp_path, data) == "preferences[0].opposite: unknown preference 'detaild' (did you mean 'detailed'?)"


def test_invalid_regex_in_local_check_is_rejected(tmp_path):
    data = base()
    data["preferences"] = [local_pref(check={"forbid_regex": "(unclosed"})]
    message = error(tmp_path, data)
    assert message.startswith("preferences[0].check.forbid_regex: invalid regex '(unclosed'")


def test_local_check_needs_a_condition(tmp_path):
    data = base()
    data["preferences"] = [local_pref(check={})]
    assert error(tmp_path, data).startswith("preferences[0].check: a check needs at least one of")


def test_local_check_with_min_words_above_max_words_is_rejected(tmp_path):
    data = base()
    data["preferences"] = [local_pref(check={"max_words": 10, "min_words": 20})]
    assert error(tmp_path, data) == "preferences[0].check: min_words 20 is above max_words 10: no response can pass"


def test_local_preference_resolves_before_builtin_and_checks_text(tmp_path):
    data = base()
    data["preferences"] = [local_pref(check={"max_words": 5, "forbid_regex": ";"})]
    data["schedule"][0]["preferences"] = ["two-lines"]
    persona = load_persona(write(tmp_path, data), check_prompts=False)
    local = persona.preference("two-lines")
    assert local.complaints == ("Two sentences at most, please.",)
    assert local.check("Short and sweet.").passed
    result = local.check("One two three four five six; seven.")
    assert not result.passed and "7 words (max 5)" in result.evidence and "';'" in result.evidence
    assert persona.preference("concise").id == "concise"
    with pytest.raises(InputError, match="unknown preference 'concse'.*did you mean 'concise'"):
        persona.preference("concse")


def test_declarative_checker_counts_words_sentences_and_required_pattern():
    assert count_words("Don't split well-known words, 3 times.") == 6
    assert count_words("Two words\n```\ncode is not prose\n```\n") == 2
    assert count_sentences("One. Two! Is 3.5 three? See e.g. the docs.") == 4
    assert count_sentences("Steps:\n- first\n- second\n- third") == 4
    check = LocalCheck(min_words=2, max_sentences=1, require_regex=r"(?i)^yes")
    assert LocalCheck.model_validate({"max_words": 3}).max_words == 3
    from simbench.persona.spec import build_checker

    checker = build_checker(check)
    assert checker("Yes, it works.").passed
    failed = checker("Nope. It does not.")
    assert not failed.passed and "2 sentences (max 1)" in failed.evidence and "missing a match" in failed.evidence
    assert "1 words (min 2)" in checker("Yes").evidence


# ------------------------------------------------------------------ types and keys


def test_wrong_type_names_field_and_value(tmp_path):
    data = base()
    data["interactions"] = "sixty"
    assert error(tmp_path, data) == "interactions: should be a valid integer, got 'sixty'"


def test_yaml_boolean_is_not_accepted_as_preference_id(tmp_path):
    text = yaml.safe_dump(base(), sort_keys=False).replace("- detailed", "- yes")
    assert error(tmp_path, text) == "schedule[1].preferences[0]: should be a valid string, got True"


def test_unknown_top_level_key_suggests_the_closest_field(tmp_path):
    data = base()
    data["backgroud"] = "typo"
    assert error(tmp_path, data) == "unknown key 'backgroud' (did you mean 'background'?)"


def test_unknown_nested_key_names_its_parent(tmp_path):
    data = base()
    data["schedule"][1]["prefs"] = ["x"]
    assert error(tmp_path, data) == "schedule[1]: unknown key 'prefs' (did you mean 'preferences'?)"


def test_missing_required_field_is_named(tmp_path):
    data = base()
    del data["background"]
    assert error(tmp_path, data) == "missing required field 'background'"


def test_irrelevant_rate_must_be_a_share(tmp_path):
    data = base()
    data["noise"] = {"irrelevant_rate": 1.5}
    assert error(tmp_path, data) == "noise.irrelevant_rate: must be <= 1.0, got 1.5"


def test_episode_needs_at_least_one_interaction(tmp_path):
    data = base()
    data["interactions"] = 0
    assert error(tmp_path, data) == "interactions: must be >= 1, got 0"


def test_persona_id_must_be_a_slug(tmp_path):
    data = base()
    data["id"] = "My Persona"
    assert error(tmp_path, data).startswith("id: 'My Persona' is not a lowercase slug")


def test_phase_that_is_not_a_mapping_is_rejected(tmp_path):
    data = base()
    data["schedule"][1] = "detailed"
    assert error(tmp_path, data) == "schedule[1]: should be a mapping, got 'detailed'"


# ------------------------------------------------------------------ file safety


def test_yaml_syntax_error_names_the_line(tmp_path):
    text = "id: x\nname: [unclosed\nbackground: b\n"
    message = error(tmp_path, text)
    assert message.startswith("line 3, column") and "YAML error" in message


def test_empty_file_is_rejected(tmp_path):
    assert error(tmp_path, "# only a comment\n").startswith("empty file")


def test_non_utf8_bytes_are_rejected_with_line(tmp_path):
    message = error(tmp_path, b"id: x\nname: caf\xe9\n")
    assert message.startswith("line 2: not UTF-8 (byte 0xe9")


def test_python_object_tags_are_rejected(tmp_path, monkeypatch):
    ran = []
    monkeypatch.setattr("os.system", lambda cmd: ran.append(cmd))
    message = error(tmp_path, "!!python/object/apply:os.system ['echo pwned']\n")
    assert "YAML error" in message and "python/object/apply:os.system" in message and not ran


def test_yaml_aliases_are_rejected_so_alias_bombs_cannot_expand(tmp_path):
    bomb = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{n}: &{n} [*{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}]\n" for p, n in zip("abcdefgh", "bcdefghi")
    )
    message = error(tmp_path, bomb)
    assert message.startswith("line 2, column") and "aliases" in message


def test_duplicate_yaml_keys_are_rejected(tmp_path):
    text = yaml.safe_dump(base(), sort_keys=False) + "interactions: 50\n"
    assert "duplicate key 'interactions'" in error(tmp_path, text)


def test_file_larger_than_the_limit_is_rejected_before_parsing(tmp_path):
    text = "# " + "x" * MAX_BYTES + "\n"
    assert error(tmp_path, text).startswith(f"file is {MAX_BYTES + 3} bytes")


def test_top_level_must_be_a_mapping(tmp_path):
    assert error(tmp_path, "- a\n- b\n") == "top level must be a mapping of persona fields, got list"


def test_missing_file_is_reported(tmp_path):
    with pytest.raises(InputError, match="nope.yaml: no such file"):
        load_persona(tmp_path / "nope.yaml")


# ------------------------------------------------------------------ prompt references


def write_pool(path: Path, texts: list[str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps({"text": t}) + "\n" for t in texts), encoding="utf-8")


def test_prompt_paths_resolve_relative_to_the_persona_file(tmp_path):
    write_pool(tmp_path / "pools" / "train.jsonl", ["How do I boil an egg?", "What is DNS?"])
    write_pool(tmp_path / "pools" / "probe.jsonl", ["Why is the sky blue?"])
    data = base()
    data["prompts"] = {"train": "pools/train.jsonl", "probe": "pools/probe.jsonl"}
    persona = load_persona(write(tmp_path, data), check_prompts=True)
    train, probe = load_persona_prompts(persona)
    assert [p.text for p in train] == ["How do I boil an egg?", "What is DNS?"] and len(probe) == 1


def test_prompt_path_outside_the_persona_folder_is_rejected(tmp_path):
    write_pool(tmp_path / "train.jsonl", ["What is DNS?"])
    data = base()
    data["prompts"] = {"train": "../train.jsonl", "probe": "builtin:probe"}
    (tmp_path / "inner").mkdir()
    path = write(tmp_path / "inner", data)
    with pytest.raises(InputError) as info:
        load_persona(path)
    assert str(info.value).startswith(f"{path}: prompts.train: path '../train.jsonl' resolves outside the persona's folder")


def test_home_relative_prompt_path_cannot_escape(tmp_path):
    data = base()
    data["prompts"] = {"train": "~/train.jsonl", "probe": "builtin:probe"}
    with pytest.raises(InputError, match="prompts.train: path '~/train.jsonl' resolves outside"):
        load_persona(write(tmp_path, data))


def test_allow_outside_paths_permits_prompt_files_elsewhere(tmp_path):
    write_pool(tmp_path / "train.jsonl", ["What is DNS?"])
    write_pool(tmp_path / "probe.jsonl", ["Why is the sky blue?"])
    (tmp_path / "inner").mkdir()
    data = base()
    data["prompts"] = {"train": "../train.jsonl", "probe": "../probe.jsonl"}
    data["allow_outside_paths"] = True
    persona = load_persona(write(tmp_path / "inner", data))
    assert persona.allow_outside_paths


def test_missing_prompt_file_names_the_persona_field(tmp_path):
    data = base()
    data["prompts"] = {"train": "missing.jsonl", "probe": "builtin:probe"}
    path = write(tmp_path, data)
    with pytest.raises(InputError, match=r"p\.yaml: prompts\.train: .*missing\.jsonl: file not found"):
        load_persona(path)


def test_probe_prompts_overlapping_training_prompts_are_rejected(tmp_path):
    write_pool(tmp_path / "train.jsonl", ["What is DNS?", "How do I boil an egg?"])
    write_pool(tmp_path / "probe.jsonl", ["what is  dns?"])
    data = base()
    data["prompts"] = {"train": "train.jsonl", "probe": "probe.jsonl"}
    path = write(tmp_path, data)
    with pytest.raises(InputError, match=r"p\.yaml: prompts: 1 probe prompt\(s\) also appear in the training pool"):
        load_persona(path)


# ------------------------------------------------------------------ shipped files and schema


@pytest.mark.parametrize("path", shipped_personas(), ids=lambda p: p.stem)
def test_every_shipped_persona_validates_with_its_prompts(path):
    persona = load_persona(path, check_prompts=True)
    assert persona.id == path.stem
    assert 40 <= persona.interactions <= 60


def test_content_hash_ignores_formatting_but_not_content(tmp_path):
    data = base()
    first = load_persona(write(tmp_path, data, "a.yaml"), check_prompts=False)
    second = load_persona(write(tmp_path, yaml.safe_dump(data, default_flow_style=True), "b.yaml"), check_prompts=False)
    data["interactions"] = 41
    third = load_persona(write(tmp_path, data, "c.yaml"), check_prompts=False)
    assert first.content_hash() == second.content_hash() != third.content_hash()


MODELS = (Persona, PromptRefs, Noise, Phase, LocalPreference, LocalCheck)


def test_every_schema_field_has_a_description():
    schema = Persona.model_json_schema()
    for name, definition in [("Persona", schema), *schema["$defs"].items()]:
        assert definition.get("description"), name
        for field, spec in definition["properties"].items():
            assert spec.get("description"), f"{name}.{field}"


def test_readme_documents_every_field_and_builtin_preference():
    from simbench.persona.library import builtin_ids

    readme = (REPO_ROOT / "personas" / "README.md").read_text(encoding="utf-8")
    for model in MODELS:
        for field in model.model_fields:
            assert f"`{field}`" in readme, f"{model.__name__}.{field}"
    for pid in builtin_ids():
        assert f"`{pid}`" in readme, pid


def test_a_local_preference_may_be_judge_scored_by_a_rubric_instead_of_a_check(tmp_path):
    from simbench.persona.loader import load_persona

    text = """\
id: local-rubric
name: Local rubric
background: A reader.
interactions: 4
preferences:
  - id: warm-tone
    description: Warm, kind answers.
    complaints: ["Please be a little warmer with me."]
    rubric: The answer sounds warm and kind.
schedule:
  - at: 0
    preferences: [warm-tone]
"""
    path = tmp_path / "p.yaml"
    path.write_text(text)
    preference = load_persona(path).preference("warm-tone")
    assert not preference.verifiable and preference.rubric == "The answer sounds warm and kind."
    path.write_text(text.replace("    rubric:", "    check: {max_words: 5}\n    rubric:"))
    with pytest.raises(InputError, match=r"preferences\[0\]: give exactly one of check .* and rubric"):
        load_persona(path)
    path.write_text(text.replace("    rubric: The answer sounds warm and kind.\n", ""))
    with pytest.raises(InputError, match="exactly one of check"):
        load_persona(path)
