"""Judge-scored (rubric) wishes in reports and leaderboards: real tiny runs without a judge report
them as "not scored (no judge)"; `--judge` scores the logged answers after the run, through the
reply cache, without touching the run folder."""

from __future__ import annotations

import hashlib
import json
import re
import sys
from pathlib import Path

import pytest
from cli_inprocess import run_main
from scripted_server import ScriptedServer

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "runner"))
from tiny_runs import run_tiny, tiny_config  # noqa: E402
from tinymodels import single_torch_thread  # noqa: E402

ROOT = Path(__file__).resolve().parents[3]
POETIC = ROOT / "personas" / "paper" / "poetic.yaml"  # rubric only: poetic
MIXED = ROOT / "personas" / "paper" / "opinionated.yaml"  # rubric opinionated + checker single-answer


@pytest.fixture(scope="module")
def results(tmp_path_factory, smol_tokenizer):
    """Unjudged tiny runs: the rubric-only persona (frozen and SDPO) and the mixed one (SDPO)."""
    root = tmp_path_factory.mktemp("rubric") / "results"
    with single_torch_thread():
        for name, persona, learner in (("poetic--frozen", POETIC, "frozen"),
                                       ("poetic--sdpo-token", POETIC, "sdpo-token"),
                                       ("mixed--sdpo-token", MIXED, "sdpo-token")):
            run_tiny(tiny_config(persona, learner=learner, interactions=4, probe_every=2), root / name,
                     smol_tokenizer)
    return root


def folder_bytes(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


def yes_when_short(body: dict) -> str:
    """A deterministic judge: a reasoning line, then the constrained verdict line (and "A" to
    the pairwise questions a judged leaderboard asks for its win rate)."""
    content = body["messages"][-1]["content"]
    if "[Answer]\n" not in content:
        return "A"
    answer = content.split("[Answer]\n", 1)[1].split("\n[End of Answer]", 1)[0]
    return f"The answer has {len(answer)} characters.\nVERDICT: {'YES' if len(answer) < 40 else 'NO'}"


def test_unjudged_runs_report_rubric_wishes_as_not_scored_and_checker_wishes_with_numbers(results, tmp_path, capsys):
    for run, rubric in (("poetic--sdpo-token", "poetic"), ("mixed--sdpo-token", "opinionated")):
        code, _, err = run_main(capsys, "report", results / run, "--out", tmp_path / run, "--bootstrap", "20")
        assert code == 0, err
        md = (tmp_path / run / "report.md").read_text()
        row = next(line for line in md.splitlines() if line.startswith(f"| {rubric} | 1 |"))
        assert "not scored (no judge)" in row
        assert "## Judge-scored preferences" in md and "--judge openai" in md
        assert "not scored (no judge)" in (tmp_path / run / "report.html").read_text()
    mixed = (tmp_path / "mixed--sdpo-token" / "report.md").read_text()
    checker_row = next(line for line in mixed.splitlines() if line.startswith("| single-answer | 1 |"))
    assert "not scored" not in checker_row and "| – | – | – |" not in checker_row  # it has its numbers


def test_unjudged_runs_rank_on_the_leaderboard_with_a_not_scored_cell_not_a_dropped_run(results, tmp_path, capsys):
    code, _, err = run_main(capsys, "leaderboard", results, "--out", tmp_path, "--bootstrap", "10")
    assert code == 0, err
    board = json.loads((tmp_path / "leaderboard.json").read_text())
    assert board["skipped"] == [] and len(board["runs"]) == 3
    poetic_runs = [r for r in board["runs"] if r["persona"] == "paper-poetic"]
    assert all(r["not_scored"] == {"poetic": "not scored (no judge)"} for r in poetic_runs)
    md = (tmp_path / "leaderboard.md").read_text()
    frozen_row = next(line for line in md.splitlines() if line.startswith("| frozen |"))
    assert "not scored (no judge)" in frozen_row  # poetic is its only wish: an explicit cell
    assert any("'poetic' is judge-scored and not scored (no judge) in 2 run(s)" in n for n in board["notes"])


def test_report_with_a_judge_scores_the_logged_answers_once_and_leaves_the_run_folder_alone(
        results, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "unused-by-the-scripted-server")
    before = folder_bytes(results)
    cache = tmp_path / "replies.jsonl"
    run = results / "mixed--sdpo-token"
    with ScriptedServer(reply=yes_when_short) as server:
        judge = ["--judge", "openai", "--judge-option", f"base_url={server.base_url}",
                 "--judge-option", "model=scripted-judge", "--judge-option", f"cache={cache}"]
        code, _, err = run_main(capsys, "report", run, "--out", tmp_path / "first", "--bootstrap", "20", *judge)
        assert code == 0, err
        asked = [r for r in server.requests if "VERDICT" in r["messages"][0]["content"]]
        assert asked
        count = len(server.requests)
        code, _, err = run_main(capsys, "report", run, "--out", tmp_path / "second", "--bootstrap", "20", *judge)
        assert code == 0, err
        assert len(server.requests) == count  # every verdict came from the reply cache
        code, _, err = run_main(capsys, "leaderboard", results, "--out", tmp_path / "board", "--bootstrap", "5", *judge)
        assert code == 0, err
        base_url = server.base_url
    assert folder_bytes(results) == before  # logs, manifests: not a byte changed
    md = (tmp_path / "first" / "report.md").read_text()
    assert f"scored after the run by judge scripted-judge at {base_url}" in md
    assert "Judge-scored preferences opinionated:" in md
    row = next(line for line in md.splitlines() if line.startswith("| opinionated | 1 |"))
    assert "not scored" not in row
    assert f"scored after the run by judge scripted-judge at {base_url}" in (tmp_path / "first" / "report.html").read_text()
    board = json.loads((tmp_path / "board" / "leaderboard.json").read_text())
    assert board["provenance"]["judge_scored"] == {
        f"scripted-judge at {base_url} (scored after the run)": ["opinionated", "poetic"]}
    assert not any(r.get("not_scored") for r in board["runs"])
    assert "judge-scored preferences: opinionated, poetic by scripted-judge" in (tmp_path / "board" / "leaderboard.md").read_text()


def test_unparseable_verdicts_are_counted_and_not_scored_never_read_as_fails(results, tmp_path):
    from simbench import api

    incidental_no = "The answer does meet the criterion of being lyrical, as it requires no"
    with ScriptedServer(reply=incidental_no) as server:
        options = {"base_url": server.base_url, "model": "scripted-judge", "api_key_env": None, "cache": "off"}
        md, _ = api.report(results / "poetic--sdpo-token", tmp_path, bootstrap=20, judge="openai",
                           judge_options=options)
    text = md.read_text()
    counted = re.search(r"(\d+) of (\d+) verdict\(s\) unparseable", text)
    assert server.requests and counted and counted.group(1) == counted.group(2) != "0"
    row = next(line for line in text.splitlines() if line.startswith("| poetic | 1 |"))
    assert "not scored (the judge's replies were unparseable)" in row
