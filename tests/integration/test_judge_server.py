"""The judge path end to end against the real llama.cpp server serving SmolLM2 (marker `server`).

Mechanics only: rubric questions, both-order pairwise questions, the win rate and the
calibration come back well-formed and the reply cache answers a repeat without a request
(counted by a scripted proxy in front of the real server). A 135M model is not a good judge:
these tests never assert that its verdicts are right (docs/preferences.md reports how often
it agrees with the checkers).
"""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from scripted_server import ScriptedServer

from simbench.judge import EndpointJudge
from simbench.logs.schema import CheckOutcome, PhaseInfo, ProbeRecord
from simbench.persona.library import get_preference
from simbench.reporting.calibration import calibrate
from simbench.reporting.win_rate import win_rate_cell

pytestmark = [pytest.mark.server, pytest.mark.timeout(180)]

MODEL = "smollm2-135m"
PROMPT = "How do plants make food?"
SHORT = "Plants use sunlight, water and carbon dioxide to make sugar."
LONG = ("Plants make food through photosynthesis. They take in sunlight with chlorophyll. "
        "They absorb water through their roots and carbon dioxide through their leaves.")


def _judge(base_url: str, cache: str) -> EndpointJudge:
    return EndpointJudge(base_url, MODEL, api_key_env=None, max_tokens=8, timeout=60.0, cache=cache)


def _logs(answers: list[str], concise: list[bool], t: int = 4) -> SimpleNamespace:
    probes = [ProbeRecord(t=time, probe_id=f"p{i}", prompt=PROMPT, response=text,
                          checks={"concise": CheckOutcome(passed=ok)})
              for time in (0, t) for i, (text, ok) in enumerate(zip(answers, concise))]
    manifest = {"persona": {"ever": ["concise"]}}
    return SimpleNamespace(probes=probes, schedule=[PhaseInfo(at=0, preferences=["concise"])], seed=0,
                           manifest=manifest)


def test_rubric_questions_are_answered_and_cached_across_judges(llama_server, tmp_path):
    cache = str(tmp_path / "replies.jsonl")
    with ScriptedServer(upstream=llama_server) as proxy:
        rubric = get_preference("poetic").rubric
        first = _judge(proxy.base_url, cache).score_many([(PROMPT, SHORT, rubric), (PROMPT, LONG, rubric)])
        asked = len(proxy.requests)
        again = _judge(proxy.base_url, cache).score_many([(PROMPT, SHORT, rubric), (PROMPT, LONG, rubric)])
        assert asked == 2 and len(proxy.requests) == 2  # the second judge read the cache file
    assert [r.verdict for r in again] == [r.verdict for r in first]
    assert all(r.passed in (True, False, None) and r.model == MODEL for r in first)


def test_win_rate_and_calibration_run_on_the_real_server(llama_server, tmp_path):
    judge = _judge(llama_server, str(tmp_path / "replies.jsonl"))
    learner, frozen = _logs([SHORT, LONG], [True, False]), _logs([LONG, SHORT], [False, True])
    cell = win_rate_cell([(0, learner, frozen)], judge)
    assert cell["pairs"] == 2 and 0.0 <= cell["lo"] <= cell["mean"] <= cell["hi"] <= 1.0
    assert 0.0 <= cell["position_bias"] <= 1.0
    # First probe: the frozen answers, last probe: the learner's, so each prompt's pair differs.
    run = SimpleNamespace(**{**vars(learner), "probes": [p for p in frozen.probes if p.t == 0]
                             + [p for p in learner.probes if p.t == 4]})
    result = calibrate(run, judge)
    assert result["rubric"]["n"] == 2 and result["pairwise"]["n"] == 2
    assert result["judge"]["model"] == MODEL
