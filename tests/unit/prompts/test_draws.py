"""Probe draws: the built-in 410-prompt pool, its tags, and shared vs per-user subsets."""

from __future__ import annotations

import json
from collections import Counter

import pytest
from cli_inprocess import run_main

from simbench.config import build_config
from simbench.errors import InputError
from simbench.persona.library import BUILTIN, get_preference
from simbench.prompts import Prompt, load_prompts, normalise_text
from simbench.prompts.draws import draw_probes, suitable
from simbench.runner.build import resolve_inputs
from simbench.runner.provenance import manifest_for

EVERYDAY = "builtin:everyday-probe"
PERSONA = """\
id: everyday-concise
name: Concise on everyday probes
background: Wants short answers.
interactions: 8
prompts:
  probe: builtin:everyday-probe
schedule:
  - at: 0
    preferences: [{wish}]
"""


def persona_file(tmp_path, wish="concise"):
    path = tmp_path / f"{wish}.yaml"
    path.write_text(PERSONA.format(wish=wish))
    return str(path)


def test_everyday_pool_is_large_held_out_and_tagged_with_prompt_dependent_preferences():
    pool = load_prompts(EVERYDAY)
    assert len(pool) >= 400
    assert len({normalise_text(p.text) for p in pool}) == len(pool)
    held_out_from = [load_prompts(f"builtin:{name}") for name in ("train", "ambiguous-train")]
    trained = {normalise_text(p.text) for prompts in held_out_from for p in prompts}
    assert not trained & {normalise_text(p.text) for p in pool}
    dependent = {pid for pid, pref in BUILTIN.items() if pref.prompt_dependent}
    counts = Counter(tag for p in pool for tag in p.tags)
    assert set(counts) == dependent  # every tag is a prompt-dependent preference, and each is used
    assert min(counts.values()) >= 20
    assert counts["lists"] >= 200 and counts["answer-first"] >= 200


def test_style_wishes_keep_the_whole_pool_and_prompt_dependent_ones_keep_their_tagged_prompts():
    pool = load_prompts(EVERYDAY)
    assert suitable(pool, [get_preference("concise"), get_preference("no-emojis")]) == pool
    chosen = suitable(pool, [get_preference("concise"), get_preference("single-answer")])
    assert 0 < len(chosen) < len(pool)
    assert all("single-answer" in p.tags for p in chosen)
    # A flip between two prompt-dependent wishes keeps prompts that can exercise both.
    both = suitable(pool, [get_preference("single-answer"), get_preference("alternatives")])
    assert both and all({"single-answer", "alternatives"} <= set(p.tags) for p in both)


def test_untagged_pools_keep_every_prompt_in_file_order():
    pool = load_prompts("builtin:probe")
    assert draw_probes(pool, 16, "shared", 3, [get_preference("lists")]) == pool[:16]


def test_shared_draw_is_one_set_for_every_user_and_per_user_draws_differ_by_seed():
    pool = load_prompts(EVERYDAY)
    prefs = [get_preference("concise")]
    shared = [draw_probes(pool, 24, "shared", seed, prefs) for seed in range(3)]
    assert shared[0] == shared[1] == shared[2] == pool[:24]
    drawn = [draw_probes(pool, 24, "per-user", seed, prefs) for seed in range(3)]
    assert drawn[0] == draw_probes(pool, 24, "per-user", 0, prefs)  # reproducible
    assert len({tuple(p.id for p in d) for d in drawn}) == 3
    order = {p.id: i for i, p in enumerate(pool)}
    for subset in drawn:
        assert len({p.id for p in subset}) == 24
        assert [order[p.id] for p in subset] == sorted(order[p.id] for p in subset)
    # Across 40 users the prompts seen spread over most of the pool.
    seen = {p.id for seed in range(40) for p in draw_probes(pool, 24, "per-user", seed, prefs)}
    assert len(seen) > 0.8 * len(pool)


def test_asking_for_more_suitable_prompts_than_the_pool_holds_names_the_flag():
    pool = load_prompts(EVERYDAY)
    with pytest.raises(InputError) as err:
        draw_probes(pool, 300, "per-user", 0, [get_preference("clarify-first")])
    assert err.value.where == "--probe-prompts"
    assert "tagged for clarify-first" in str(err.value)


@pytest.mark.parametrize("tags, problem", [("lists", "must be a list"), (["lists", "lists"], "repeats a tag"),
                                           (["lists", ""], "must be a list")])
def test_bad_tags_in_a_pool_file_are_one_line_errors_naming_the_field(tmp_path, tags, problem):
    path = tmp_path / "pool.jsonl"
    path.write_text(json.dumps({"id": "a", "text": "Why?", "tags": tags}) + "\n")
    with pytest.raises(InputError) as err:
        load_prompts(str(path))
    assert "line 1, field 'tags'" in err.value.where and problem in str(err.value)
    assert "\n" not in str(err.value)


def test_a_tagged_user_pool_loads_its_tags(tmp_path):
    path = tmp_path / "pool.jsonl"
    path.write_text(json.dumps({"text": "Which bike should I buy?", "tags": ["single-answer"]}) + "\n")
    assert load_prompts(str(path)) == [Prompt(id="pool-1", text="Which bike should I buy?", tags=("single-answer",))]


def test_a_per_user_run_draws_by_seed_and_records_its_probes(tmp_path):
    persona = persona_file(tmp_path)
    settings = {"persona": persona, "batch_size": 4, "probe_every": 4, "probe_prompts": 24,
                "probe_draw": "per-user"}
    first, second = (resolve_inputs(build_config({**settings, "seed": seed})) for seed in (0, 1))
    assert [p.id for p in first.probe] != [p.id for p in second.probe]
    again = resolve_inputs(build_config({**settings, "seed": 0, "learner": "frozen"}))
    assert again.probe == first.probe  # the draw depends on the user, not on the arm
    manifest = manifest_for(first).model_dump(mode="json")
    assert manifest["config"]["probe_draw"] == "per-user"
    assert manifest["prompts"]["probe"]["ids"] == [p.id for p in first.probe]
    shared = manifest_for(resolve_inputs(build_config({**settings, "probe_draw": "shared"})))
    assert "probe_draw" not in shared.model_dump(mode="json")["config"]  # the default stays unwritten


def test_an_unknown_probe_draw_flag_is_one_line_exit_2(capsys, tmp_path):
    code, out, err = run_main(capsys, "run", "--persona", "concise", "--probe-draw", "everyone",
                              "--out", str(tmp_path / "out"))
    assert code == 2
    assert len(err.strip().splitlines()) == 1 and "--probe-draw" in err
    assert not (tmp_path / "out").exists()
