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
from simbench.safe_load import iter_jsonl, load_plain_yaml, nesting_depth, parse_json

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


# ---------------------------------------------------------------------------- digits and text


def test_an_integer_beyond_4300_digits_is_one_error_naming_the_line():
    text = '{"a": 1,\n "b": ' + "7" * 4301 + "}"
    with pytest.raises(InputError, match=r"^f.json: line 2: integer with more than 4300 digits"):
        parse_json(text, "f.json")
    assert parse_json("-" + "9" * 4300, "f.json") == -int("9" * 4300)


def test_a_yaml_integer_beyond_4300_digits_is_refused_in_every_spelling():
    from simbench.safe_load import parse_yaml

    with pytest.raises(InputError, match=r"f.yaml: line 2, column 4: .*integer with more than 4300 digits"):
        parse_yaml("a: 1\nb: " + "1" * 4301 + "\n", "f.yaml")
    with pytest.raises(InputError, match=r"f.yaml: b: integer with more than 4300 digits"):
        parse_yaml("b: 0x" + "f" * 4000 + "\n", "f.yaml")  # builds, but no writer could print it


def test_a_lone_surrogate_anywhere_is_refused_naming_line_and_field():
    text = '{"messages": [\n {"role": "user", "content": "hi \\ud800"}]}'
    with pytest.raises(InputError, match=r"^f.json: line 2: messages\[0\].content holds a lone surrogate \(\\ud800\)"):
        parse_json(text, "f.json")
    with pytest.raises(InputError, match=r"a key of x holds a lone surrogate \(\\udc00\)"):
        parse_json('{"x": {"\\udc00": 1}}', "f.json")
    assert parse_json('["\\ud83d\\ude00"]', "f.json") == ["\U0001F600"]  # a full pair is one character


def test_a_yaml_lone_surrogate_is_refused_and_a_jsonl_one_names_its_line(tmp_path):
    from simbench.safe_load import parse_yaml

    with pytest.raises(InputError, match=r"f.yaml: a.b\[1\] holds a lone surrogate"):
        parse_yaml('a:\n  b: [ok, "\\udfff"]\n', "f.yaml")
    path = tmp_path / "log.jsonl"
    path.write_text('{"t": 0}\n{"t": 1, "text": "\\ud800"}\n{"t": 2}\n', encoding="utf-8")
    with pytest.raises(InputError, match=r"log.jsonl: line 2: text holds a lone surrogate"):
        list(iter_jsonl(path))


def test_option_values_are_parsed_by_the_bounded_parser():
    from simbench.commands.options import parse_options

    assert parse_options(["lr=0.5", "name=plain text", "on=true"], "--learner-option") == {
        "lr": 0.5, "name": "plain text", "on": True}
    for value, problem in (("[" * 50_000, "nested more than 32"), ("9" * 5000, "more than 4300 digits"),
                           ('"\\ud800"', "lone surrogate"), ("a\udcff", "lone surrogate")):
        with pytest.raises(InputError, match=problem) as info:
            parse_options([f"x={value}"], "--user-option")
        assert info.value.where.startswith("--user-option x")


def test_option_values_are_converted_to_the_declared_type_before_use():
    from simbench.option_types import typed_options

    def build(rate: float, count: int, name: str, flag: bool = True, key: str | None = "K") -> None: ...

    assert typed_options("--o", "x", build, {"rate": "0.5", "count": "3", "name": 7, "flag": "false",
                                             "key": None}) == {"rate": 0.5, "count": 3, "name": "7",
                                                               "flag": False, "key": None}
    for key, value, need in (("rate", "fast", "a number"), ("count", 2.5, "an integer"),
                             ("count", True, "an integer"), ("rate", float("nan"), "a number"),
                             ("key", 1.5, "text or null")):
        with pytest.raises(InputError, match=f"must be {need}") as info:
            typed_options("--o", "x", build, {key: value})
        assert info.value.where == f"--o {key}"


# ---------------------------------------------------------------------------- paths and files


def test_paths_beyond_name_max_or_path_max_are_refused_naming_the_flag():
    from simbench.paths import check_path_length

    check_path_length("a" * 255, "--out")
    check_path_length("a/" * 2047, "--out")
    with pytest.raises(InputError, match=r"^--out: a file or folder name in the path is 256 bytes"):
        check_path_length("ok/" + "a" * 256, "--out")
    with pytest.raises(InputError, match=r"^--config: path is 4096 bytes, above the 4095-byte limit"):
        check_path_length("a/" * 2048, "--config")
    with pytest.raises(InputError, match="256 bytes"):
        check_path_length("é" * 128, "--out")  # bytes, not characters


def test_a_gguf_header_is_checked_before_any_load(tmp_path):
    import struct

    from sdpo.errors import ModelNotFoundError
    from sdpo.models import check_available, check_gguf_header

    good = tmp_path / "good.gguf"
    good.write_bytes(struct.pack("<4sIQQ", b"GGUF", 3, 30, 20) + bytes(100))
    assert check_gguf_header("good", good) == good
    cases = {b"GGML" + bytes(40): "not a GGUF file", b"GGUF\x03\x00": r"truncated \(6 of 24 bytes\)",
             struct.pack("<4sIQQ", b"GGUF", 0, 1, 1): "corrupt", struct.pack("<4sIQQ", b"GGUF", 3, 2**33, 1): "corrupt"}
    for head, problem in cases.items():
        bad = tmp_path / "bad.gguf"
        bad.write_bytes(head)
        with pytest.raises(ModelNotFoundError, match=problem):
            check_available(str(bad))


def test_the_judge_cache_is_read_bounded_and_its_path_checked(tmp_path):
    from simbench.judge_cache import ReplyCache

    cache = tmp_path / "c.jsonl"
    cache.write_text('{"key": "a", "reply": "A"}\n{"key": "b", "rep', encoding="utf-8")
    assert ReplyCache(cache).get("a") == "A"  # the torn last line is dropped, asked again
    cache.write_bytes(b'{"key": "a", "reply": "A"}\n' + b"[" * 50_000 + b"\n")
    with pytest.raises(InputError, match=r"judge cache .*c.jsonl: line 2: nested more than 32 .*cache=off"):
        ReplyCache(cache)
    with pytest.raises(InputError, match=r"^--judge-option cache: .* is a folder"):
        ReplyCache(tmp_path)
    with pytest.raises(InputError, match=r"^--judge-option cache: cannot create .*c.jsonl/x: .* is not a folder"):
        ReplyCache(cache / "x")


def test_the_sweep_reads_checkpoint_positions_through_the_bounded_loader(tmp_path):
    from simbench.runner.executors.base import checkpoint_position

    checkpoints = tmp_path / "checkpoints"
    (checkpoints / "ckpt-0000004").mkdir(parents=True)
    (checkpoints / "LATEST").write_text("ckpt-0000004\n")
    state = checkpoints / "ckpt-0000004" / "state.json"
    state.write_text('{"t": 4}')
    assert checkpoint_position(tmp_path) == 4
    for broken in ("[" * 50_000, '{"t": ' + "1" * 5000 + "}", '{"t": "4"}', "\xff"):
        state.write_text(broken, encoding="utf-8", errors="surrogateescape")
        assert checkpoint_position(tmp_path) is None  # `execute` then names what is wrong
    (checkpoints / "LATEST").write_bytes(b"x" * 10_000)
    assert checkpoint_position(tmp_path) is None


# ---------------------------------------------------------------------------- duplicate cells


def _board(results: Path) -> dict:
    main(["leaderboard", str(results), "--bootstrap", "2"])
    return json.loads((results / "leaderboard.json").read_text())


def test_two_good_copies_of_a_run_are_counted_once_and_the_other_listed(tmp_path):
    results = tmp_path / "results"
    results.mkdir()
    shutil.copytree(REFERENCE_RUNS[0], results / "a-copy")
    shutil.copytree(REFERENCE_RUNS[0], results / "b-copy")
    board = _board(results)
    assert [r["run"] for r in board["runs"]] == ["a-copy"]
    assert board["skipped"] == [{"run": "b-copy", "reason": "duplicate of a-copy"}]


def test_a_broken_copy_sorting_first_does_not_drop_the_good_one(tmp_path):
    results = tmp_path / "results"
    results.mkdir()
    shutil.copytree(REFERENCE_RUNS[0], results / "a-broken")
    shutil.copytree(REFERENCE_RUNS[0], results / "b-good")
    lines = (results / "a-broken" / "probes.jsonl").read_bytes().splitlines(keepends=True)
    (results / "a-broken" / "probes.jsonl").write_bytes(b"".join(lines[:1] + lines))
    board = _board(results)
    assert [r["run"] for r in board["runs"]] == ["b-good"]
    (skipped,) = board["skipped"]
    assert skipped["run"] == "a-broken" and skipped["reason"].startswith("duplicate of b-good (this copy is unreadable")
