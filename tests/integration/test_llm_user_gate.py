"""The LLM user's quality gate against the real llama.cpp server serving SmolLM2 (marker
`server`): what the gate records is what it says about the kept text, unflagged follow-ups
talk about the broken wish and keep the wishes the user voices, and a whole CLI run with
the README's command logs, reports and (when above the threshold) warns about the share of
flagged follow-ups.
"""

from __future__ import annotations

import json
import random

import pytest
from cli_inprocess import run_main

from simbench.persona.library import get_preference
from simbench.users import gate
from simbench.users.base import FollowUpRequest
from simbench.users.openai_compat import OpenAIUser

pytestmark = [pytest.mark.server, pytest.mark.timeout(600)]

MODEL = "smollm2-135m"
PROMPTS = ("How do plants make food?", "Why is the sky blue?", "How do I boil an egg?",
           "What is a prime number?")
LONG = ("Plants make food through photosynthesis! They take in sunlight with chlorophyll. They absorb "
        "water through their roots and carbon dioxide through their leaves. Inside the chloroplasts, "
        "light energy turns these into glucose and oxygen!")


def test_gated_follow_ups_from_smollm2_are_flagged_exactly_when_the_gate_objects(llama_server):
    concise, calm = get_preference("concise"), get_preference("no-exclamation")
    user = OpenAIUser(llama_server, MODEL, api_key_env=None, max_tokens=40, timeout=60.0, temperature=0.7,
                      seed=1, backoff_base=0.05, backoff_max=0.5)
    items = [(prompt, LONG, [concise, calm]) for prompt in PROMPTS for _ in range(2)]
    follow_ups = user.follow_up_many([FollowUpRequest(*item, random.Random(i)) for i, item in enumerate(items)])
    for follow_up, (_, answer, active) in zip(follow_ups, items):
        record = follow_up.meta["gate"]
        assert 1 <= record["attempts"] <= gate.DEFAULT_ATTEMPTS
        assert record["flags"] == gate.problems(follow_up.text, answer, active, follow_up.violated)
        if not record["flags"]:
            assert concise.mentioned_in(follow_up.text) or calm.mentioned_in(follow_up.text)
            assert calm.check(follow_up.text).passed  # a calm-tone user does not exclaim
        else:
            assert record["attempts"] == gate.DEFAULT_ATTEMPTS  # retried up to the bound first


def test_a_cli_run_with_the_readme_llama_cpp_command_reports_the_flagged_share(
        llama_server, capsys, tmp_path, monkeypatch, smol_tokenizer):
    """`--user openai` with the flags README documents, a tiny random policy (the user is real)."""
    import functools

    from tinymodels import make_tiny_llama, single_torch_thread

    import simbench.runner.run as run_module
    from simbench.runner.parts import build_parts

    real = run_module.execute
    load = lambda name, device: (make_tiny_llama(smol_tokenizer), smol_tokenizer)  # noqa: E731
    monkeypatch.setattr(run_module, "execute", lambda config, **kw: real(
        config, parts_factory=functools.partial(build_parts, load=load), **kw))
    out = tmp_path / "run"
    with single_torch_thread():
        code, _, err = run_main(
            capsys, "run", "--persona", "concise", "--learner", "frozen", "--interactions", "6",
            "--batch-size", "2", "--probe-every", "2", "--probe-prompts", "1", "--max-new-tokens", "48",
            "--user", "openai", "--user-option", f"base_url={llama_server}", "--user-option", f"model={MODEL}",
            "--user-option", "api_key_env=null", "--out", out, "--quiet")
    assert code == 0, err
    rows = [json.loads(line) for line in (out / "interactions.jsonl").read_text().splitlines()]
    assert len(rows) == 6 and all("gate" in r["user_meta"] for r in rows)
    flagged = sum(bool(r["user_meta"]["gate"]["flags"]) for r in rows)
    code, _, err = run_main(capsys, "report", out, "--bootstrap", "5")
    assert code == 0, err
    text = (out / "report.md").read_text()
    assert f"| 6 | 6 | {flagged} | {flagged / 6:.0%} |" in text
    assert ("this user simulator is not fit for this persona" in text) == (flagged / 6 > 0.2)
    shown = [r for r in rows if f"### t={r['t']}, turn {r['turn']} " in text]
    assert sum("follow-up flagged:" in line for line in text.splitlines() if line.startswith("### t=")) == \
        sum(bool(r["user_meta"]["gate"]["flags"]) for r in shown)
