"""Judge-scored (rubric) preferences in a real tiny run: not scored without a judge, scored by
a judge on a real 127.0.0.1 endpoint with one, cached so a rerun asks nothing new."""

from __future__ import annotations

import json

import pytest
from scripted_server import ScriptedServer
from tiny_runs import one_torch_thread, records, run_tiny, tiny_config  # noqa: F401

from simbench.errors import InputError
from simbench.scoring import NO_JUDGE

pytestmark = pytest.mark.usefixtures("one_torch_thread")

PERSONA = """\
id: poetic-and-short
name: Short poems
background: A reader who wants short, lyrical answers.
interactions: 4
schedule:
  - at: 0
    preferences: [concise, poetic]
"""


def yes_when_short(body: dict) -> str:
    """A deterministic stand-in judge: YES for answers under 40 characters."""
    content = body["messages"][-1]["content"]
    answer = content.split("[Answer]\n", 1)[1].split("\n[End of Answer]", 1)[0]
    return "YES" if len(answer) < 40 else "NO"


@pytest.fixture
def persona(tmp_path):
    path = tmp_path / "poetic.yaml"
    path.write_text(PERSONA)
    return path


def config(persona, **overrides):
    return tiny_config(persona, interactions=4, probe_every=2, turns=1, **overrides)


def test_without_a_judge_a_rubric_preference_is_logged_as_not_scored(persona, smol_tokenizer, tmp_path):
    out = tmp_path / "run"
    run_tiny(config(persona), out, smol_tokenizer)
    probes = records(out, "probes")
    assert probes and all(p["checks"]["poetic"] == {"passed": None, "evidence": NO_JUDGE, "scorer": "none"}
                          for p in probes)
    assert all(isinstance(p["checks"]["concise"]["passed"], bool) and "scorer" not in p["checks"]["concise"]
               for p in probes)
    manifest = json.loads((out / "manifest.json").read_text())
    assert "judge" not in manifest
    assert any("'poetic' is judge-scored" in w for w in manifest["warnings"])
    # The rules user cannot tell, so it never complains about the rubric wish.
    for record in records(out, "interactions"):
        assert record["user_meta"]["checked"]["poetic"] is None
        assert "poetic" not in record["violated"]


def test_with_a_judge_rubric_verdicts_are_logged_and_a_rerun_hits_the_cache(persona, smol_tokenizer, tmp_path):
    cache = tmp_path / "judge-cache.jsonl"
    with ScriptedServer(reply=yes_when_short) as server:
        options = {"base_url": server.base_url, "model": "scripted-judge", "api_key_env": None,
                   "cache": str(cache)}
        first = tmp_path / "first"
        run_tiny(config(persona, judge="openai", judge_options=options), first, smol_tokenizer)
        asked = len(server.requests)
        second = tmp_path / "second"
        run_tiny(config(persona, judge="openai", judge_options=options), second, smol_tokenizer)
        assert len(server.requests) == asked  # same seed, same answers: every verdict cached
    probes = records(first, "probes")
    for probe in probes:
        check = probe["checks"]["poetic"]
        assert check["scorer"] == "judge"
        assert check["passed"] == (len(probe["response"].strip()) < 40)
    interactions = records(first, "interactions")
    # One rubric question per distinct (prompt, answer): a repeated answer is asked once.
    bodies = [json.dumps(body["messages"], sort_keys=True) for body in server.requests]
    assert 0 < asked == len(set(bodies)) <= len(probes) + len(interactions)
    for record in interactions:
        verdict = record["user_meta"]["checked"]["poetic"]
        assert verdict == (len(record["response"].strip()) < 40)
    manifest = json.loads((first / "manifest.json").read_text())
    assert manifest["judge"]["model"] == "scripted-judge" and manifest["judge"]["template_hash"]
    assert not any("judge-scored" in w for w in manifest["warnings"])
    assert [r["checks"] for r in records(second, "probes")] == [r["checks"] for r in probes]


def test_judge_options_without_a_judge_are_refused(persona):
    from simbench.runner.build import resolve_inputs

    with pytest.raises(InputError, match="--judge-option: given without --judge"):
        resolve_inputs(config(persona, judge_options={"model": "m"}))
    with pytest.raises(InputError, match="--judge"):
        resolve_inputs(config(persona, judge="nope"))
