"""Win rate against the frozen arm and the judge's calibration, through a scripted judge on a
real 127.0.0.1 endpoint: exact arithmetic, order swapping, ties, caching."""

from __future__ import annotations

import json
import re
from types import SimpleNamespace

import numpy as np
import pytest
from scripted_server import ScriptedServer
from synthetic_runs import SINGLE, always, never, write_run

from simbench.judge import EndpointJudge
from simbench.logs.schema import CheckOutcome, PhaseInfo, ProbeRecord
from simbench.reporting.calibration import calibrate
from simbench.reporting.leaderboard import build_leaderboard
from simbench.reporting.win_rate import criterion, judge_items, win_rate_cell


def _answer(content: str, letter: str) -> str:
    return re.search(rf"\[Answer {letter}\]\n(.*?)\n\[End of Answer {letter}\]", content, re.S).group(1)


def prefers_win(body: dict) -> str:
    """Picks the answer containing WIN; with both or neither, always "A" (a position-biased judge).
    Rubric questions: YES when the answer contains WIN."""
    content = body["messages"][-1]["content"]
    if "[Answer]" in content:
        return "YES" if "WIN" in content.split("[Answer]", 1)[1] else "NO"
    a, b = ("WIN" in _answer(content, x) for x in "AB")
    return "B" if b and not a else "A"


def logs_with(answers: list[str], seed: int = 0) -> SimpleNamespace:
    probes = [ProbeRecord(t=4, probe_id=f"p{i}", prompt=f"q{i}", response=text,
                          checks={"concise": CheckOutcome(passed=True)}) for i, text in enumerate(answers)]
    return SimpleNamespace(probes=probes, schedule=[PhaseInfo(at=0, preferences=["concise"])], seed=seed)


@pytest.fixture
def judge():
    with ScriptedServer(reply=prefers_win) as server:
        # One request at a time, so the recorded requests come in the order asked.
        yield EndpointJudge(server.base_url, "scripted", api_key_env=None, cache="off", concurrency=1), server


def test_win_rate_counts_wins_losses_and_order_disagreements_as_half(judge):
    endpoint, server = judge
    learner = logs_with(["WIN one", "WIN two", "plain", "plain"])
    frozen = logs_with(["plain", "plain", "WIN base", "plain"])
    cell = win_rate_cell([(0, learner, frozen)], endpoint)
    # wins on p0, p1; loses p2; p3 has no WIN on either side: "A" both orders = a tie.
    assert cell["mean"] == pytest.approx((1 + 1 + 0 + 0.5) / 4)
    assert cell["pairs"] == 4 and cell["n_seeds"] == 1
    assert cell["ties"] == pytest.approx(0.25) and cell["position_bias"] == pytest.approx(0.25)
    # One user: a t-interval over its 4 prompts (3 df), 0.625 ± 0.76, clipped to a win rate's [0, 1].
    half = 3.182446 * float(np.std([1, 1, 0, 0.5], ddof=1)) / 2
    assert 0.625 - half < 0 and 0.625 + half > 1
    assert (cell["lo"], cell["hi"]) == (0.0, 1.0)
    assert "one user" in cell["method"]
    # Both orders of every pair; p3's two orders are the same request ("plain" vs "plain"): asked once.
    assert len(server.requests) == 7
    first = server.requests[0]["messages"][-1]["content"]
    assert _answer(first, "A") == "WIN one" and _answer(first, "B") == "plain"
    swapped = server.requests[1]["messages"][-1]["content"]
    assert _answer(swapped, "A") == "plain" and _answer(swapped, "B") == "WIN one"
    assert criterion(["concise"]) in first


def test_items_pair_answers_to_the_same_prompt_at_the_last_common_time():
    learner, frozen = logs_with(["x0", "x1"]), logs_with(["y1"])
    frozen.probes[0].probe_id = "p1"
    assert judge_items(learner, frozen) == [("q1", "x1", "y1", criterion(["concise"]))]


def test_leaderboard_adds_win_rate_only_with_a_judge_and_reruns_from_the_cache(tmp_path):
    results = tmp_path / "results"
    for seed in (0, 1):
        for learner, text in (("frozen", "plain"), ("sdpo-token", "WIN"), ("in-context-oracle", "plain")):
            write_run(results / f"solo--{learner}--s{seed}", learner=learner, seed=seed, schedule=SINGLE,
                      opposites={}, persona_id="solo", interactions=4, probe_every=2, probes=3,
                      passing=never if learner == "frozen" else always, text=text)
    plain = build_leaderboard(results, bootstrap=50).dump()
    assert "win_rate" not in plain["metrics"] and "judge" not in plain
    cache = tmp_path / "cache.jsonl"
    with ScriptedServer(reply=prefers_win) as server:
        judge = EndpointJudge(server.base_url, "scripted", api_key_env=None, cache=str(cache))
        board = build_leaderboard(results, bootstrap=50, judge=judge).dump()
        asked = len(server.requests)
        again = build_leaderboard(results, bootstrap=50,
                                  judge=EndpointJudge(server.base_url, "scripted", api_key_env=None, cache=str(cache))).dump()
        assert len(server.requests) == asked  # every verdict came from the cache file
    rows = {r["learner"]: r["cells"]["single"] for r in board["rows"]}
    assert rows["sdpo-token"]["win_rate"]["mean"] == 1.0 and rows["sdpo-token"]["win_rate"]["pairs"] == 6
    assert rows["in-context-oracle"]["win_rate"]["mean"] == 0.5  # same text as frozen: ties
    assert rows["frozen"]["win_rate"] is None
    assert {"scenario": "single", "metric": "win_rate"} in board["columns"]
    assert board["judge"]["model"] == "scripted"
    assert again["rows"] == board["rows"]
    json.dumps(board, allow_nan=False)


def test_calibration_compares_the_judge_with_the_checkers(judge, tmp_path):
    endpoint, _ = judge
    from simbench.metrics import load_run_logs

    # concise fails at t=0 and passes at the end; answers say WIN only at the end, so a judge
    # that prefers WIN agrees with the checker on every pair and every rubric verdict.
    run = write_run(tmp_path / "solo--sdpo-token--s0", learner="sdpo-token", schedule=SINGLE, opposites={},
                    persona_id="solo", interactions=4, probe_every=4, probes=2,
                    passing=lambda pref, t, i: t == 4, text="x")
    probes = [json.loads(line) for line in (run / "probes.jsonl").read_text().splitlines()]
    for p in probes:
        p["response"] = "WIN" if p["t"] == 4 else "long answer"
    (run / "probes.jsonl").write_text("".join(json.dumps(p) + "\n" for p in probes))
    result = calibrate(load_run_logs(run), endpoint)
    assert result["rubric"] == {"n": 2, "unreadable": 0, "agreement": 1.0, "checker_pass": 1.0}
    assert result["pairwise"]["n"] == 2 and result["pairwise"]["agreement"] == 1.0
    assert result["pairwise"]["position_bias"] == 0.0


def test_run_report_with_a_judge_shows_win_rate_and_calibration(tmp_path):
    from simbench import api

    results = tmp_path / "results"
    for learner, text in (("frozen", "plain"), ("sdpo-token", "WIN")):
        write_run(results / f"solo--{learner}--s0", learner=learner, schedule=SINGLE, opposites={},
                  persona_id="solo", interactions=4, probe_every=2, probes=3,
                  passing=never if learner == "frozen" else (lambda pref, t, i: t == 4), text=text)
    with ScriptedServer(reply=prefers_win) as server:
        options = {"base_url": server.base_url, "model": "scripted", "api_key_env": None, "cache": "off"}
        md, html = api.report(results / "solo--sdpo-token--s0", tmp_path / "out", bootstrap=50,
                              judge="openai", judge_options=options)
    text = md.read_text()
    assert "Win rate against the frozen model" in text and "Judge calibration on the verifiable preferences" in text
    row = next(line for line in text.splitlines() if line.startswith("| 1.00 "))
    assert "| 3 |" in row  # 3 probe prompts at the last probe, every one won
    assert "Win rate against the frozen model" in html.read_text()
    plain, _ = api.report(results / "solo--sdpo-token--s0", tmp_path / "plain", bootstrap=50)
    assert "Win rate" not in plain.read_text()
