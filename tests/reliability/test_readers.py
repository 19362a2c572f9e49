"""Readers of run folders: the committed reference runs satisfy every folder invariant, the
leaderboard names every folder it leaves out (never drops one silently), and the bounded
loader refuses what would overflow Python's parsers.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from reliability_helpers import REPO
from simbench.cli import main
from simbench.errors import InputError
from simbench.logs.safe_load import iter_jsonl, load_plain_yaml, nesting_depth, parse_json

REFERENCE = REPO / "results" / "cpu-reference"
REFERENCE_RUNS = sorted(p for p in REFERENCE.iterdir() if (p / "manifest.json").is_file())


def test_every_committed_reference_run_satisfies_the_folder_invariants():
    from simbench.metrics import load_run_logs

    assert len(REFERENCE_RUNS) == 30
    for run in REFERENCE_RUNS:
        logs = load_run_logs(run)  # raises InputError on the first violation
        assert len({(r.t, r.turn) for r in logs.interactions}) == logs.episode_length


def test_leaderboard_lists_every_folder_it_leaves_out_and_why(tmp_path, capsys):
    results = tmp_path / "results"
    results.mkdir()
    for run in REFERENCE_RUNS[:2]:
        shutil.copytree(run, results / run.name)
    broken = results / "broken-manifest"
    shutil.copytree(REFERENCE_RUNS[0], broken)
    (broken / "manifest.json").write_bytes(b"\xff{")
    orphan = results / "logs-without-manifest"
    orphan.mkdir()
    shutil.copy(REFERENCE_RUNS[0] / "probes.jsonl", orphan)
    duplicated = results / "two-writers"
    shutil.copytree(REFERENCE_RUNS[1], duplicated)
    lines = (duplicated / "interactions.jsonl").read_bytes().splitlines(keepends=True)
    (duplicated / "interactions.jsonl").write_bytes(b"".join(lines[:1] + lines))
    (results / "notes").mkdir()  # not a run: no manifest, no logs; not listed
    main(["leaderboard", str(results), "--bootstrap", "2"])
    board = json.loads((results / "leaderboard.json").read_text())
    skipped = {s["run"]: s["reason"] for s in board["skipped"]}
    assert set(skipped) == {"broken-manifest", "logs-without-manifest", "two-writers"}
    assert "not UTF-8" in skipped["broken-manifest"]
    assert "without a manifest.json" in skipped["logs-without-manifest"]
    assert "interaction t=0 turn 0 appears twice" in skipped["two-writers"]
    assert {r["run"] for r in board["runs"]} == {run.name for run in REFERENCE_RUNS[:2]}
    assert sum(note.startswith("left out ") for note in board["notes"]) == 3
    markdown = (results / "leaderboard.md").read_text()
    assert all(name in markdown for name in skipped)


@pytest.mark.parametrize("text", ["[" * 50_000, "{\"a\": " * 50_000, "[" * 33 + "]" * 33])
def test_json_nested_beyond_the_limit_is_one_input_error(text):
    with pytest.raises(InputError, match="nested more than 32 levels deep"):
        parse_json(text, "f.json")


def test_nesting_at_the_limit_is_accepted_and_measured_without_recursion():
    assert parse_json("[" * 32 + "]" * 32, "f.json") == eval("[" * 32 + "]" * 32)
    value: list = []
    for _ in range(100_000):
        value = [value]
    assert nesting_depth(value) == 100_001


def test_yaml_depth_is_refused_from_the_event_stream_before_a_node_is_built():
    import yaml

    with pytest.raises(yaml.YAMLError, match="nested more than 32 levels deep"):
        load_plain_yaml("a:\n" + "".join("  " * i + "- \n" for i in range(1, 40)))
    with pytest.raises(yaml.YAMLError, match="aliases"):
        load_plain_yaml("a: &x [1]\nb: *x\n")


def test_jsonl_refuses_a_record_that_is_not_an_object(tmp_path):
    path = tmp_path / "log.jsonl"
    path.write_text('{"t": 0}\n[1, 2]\n', encoding="utf-8")
    with pytest.raises(InputError, match=r"log.jsonl: line 2: must hold a JSON object"):
        list(iter_jsonl(path))


def test_a_log_bigger_than_the_limit_is_refused_without_reading_it_whole(tmp_path):
    path = tmp_path / "log.jsonl"
    path.write_bytes(b'{"t": 0}\n' * 1000)
    with pytest.raises(InputError, match="above the 100-byte limit"):
        list(iter_jsonl(path, max_bytes=100))


def test_a_special_file_is_not_read_as_a_log(tmp_path):
    with pytest.raises(InputError, match="is not a regular file"):
        list(iter_jsonl(Path("/dev/zero")))
