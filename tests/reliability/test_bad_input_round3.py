"""A third round of hostile and broken inputs, each through the real CLI in process: exit 2,
ONE line on stderr naming the file, field or flag, no traceback, nothing written or changed.

The rows reuse the machinery of test_bad_input_table.py (the base run, `Case`, the tamper
helpers and the check itself); each block below lists one family of inputs.
"""

from __future__ import annotations

import struct
from pathlib import Path
from typing import Callable

import pytest
from test_bad_input_table import (  # noqa: F401 - `base` is the fixture the rows run against
    NEW_RUN,
    RESUME,
    Case,
    base,
    deep_json,
    insert_line,
    insert_line_in,
    latest_state,
    make_dir,
    sweep_config,
    write,
)
from test_bad_input_table import test_bad_input_exits_2_with_one_line_and_changes_nothing as check_row

# ---- readers and preflight rows
# Integers beyond Python's 4300-digit conversion limit and lone surrogates (valid JSON escapes
# no writer can encode) in every reader; option values nested deep or of the wrong type; the
# judge reply cache; paths beyond NAME_MAX/PATH_MAX; files named .gguf that are not GGUF; and
# numeric flags whose memory grows with the value.

LONG_INT = "1" + "0" * 5000
LONE = "\\ud800"  # the six characters of a JSON/YAML escape of a lone high surrogate
LONG_NAME = "n" * 300
LONG_PATH = "d/" * 2100 + "x"  # 4201 bytes, every name short
JUDGE = ["--judge", "openai", "--judge-option", "base_url=http://127.0.0.1:9/v1", "--judge-option", "model=m",
         "--judge-option", "api_key_env=null"]
SWEEP = ["sweep", "--personas", "persona.yaml", "--learners", "frozen", "--config", "sweep.json"]


def replace_in(relative: str, old: str, new: str) -> Callable[[Path], None]:
    def tamper(root: Path) -> None:
        path = root / relative
        text = path.read_text(encoding="utf-8")
        assert old in text, f"{old!r} not in {relative}"
        path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return tamper


def results_holding_only(tamper: Callable[[Path], None]) -> Callable[[Path], None]:
    """The base run moved to results/run, then `tamper` applied (paths under results/)."""
    def apply(root: Path) -> None:
        (root / "results").mkdir()
        (root / "run").rename(root / "results" / "run")
        tamper(root)
    return apply


def state_tamper(old: str, new: str) -> Callable[[Path], None]:
    return lambda root: replace_in(latest_state(root), old, new)(root)


def gguf(relative: str, head: bytes) -> Callable[[Path], None]:
    return write(relative, head)


READER_ROWS = [
    # -- integers with more than 4300 digits, in every reader ---------------------------------
    Case("config-json-long-int", ["run", "--config", "big.json"], "big.json", ["integer with more than 4300"],
         write("big.json", '{"seed": ' + LONG_INT + "}")),
    Case("config-yaml-long-int", ["run", "--config", "big.yaml"], "big.yaml", ["integer with more than 4300"],
         write("big.yaml", "seed: " + LONG_INT + "\n")),
    Case("persona-long-int", ["personas", "validate", "big.yaml"], "big.yaml", ["integer with more than 4300"],
         write("big.yaml", "id: x\nbackground: b\ninteractions: " + LONG_INT + "\n")),
    Case("pool-long-int", ["personas", "validate", "persona.yaml"], "persona.yaml: prompts.train",
         ["train.jsonl, line 1", "integer with more than 4300"],
         insert_line_in("pools/train.jsonl", 0, '{"id": "big", "text": "t", "n": ' + LONG_INT + "}")),
    Case("signal-cases-long-int", ["signal", "--cases", "cases.jsonl", "--out", "s"], "cases.jsonl, line 1",
         ["integer with more than 4300"], write("cases.jsonl", '{"n": ' + LONG_INT + "}\n")),
    Case("conversations-long-int", ["distill", "--conversations", "c.jsonl", "--out", "d", "--on-error", "reject"],
         "c.jsonl, line 1", ["integer with more than 4300"], write("c.jsonl", "[" + LONG_INT + "]\n")),
    Case("report-manifest-long-int", ["report", "run"], "run/manifest.json", ["integer with more than 4300"],
         replace_in("run/manifest.json", '"seed": 0', '"seed": ' + LONG_INT)),
    Case("report-probes-long-int", ["report", "run"], "run/probes.jsonl: line 1", ["integer with more than 4300"],
         insert_line("probes", 0, ('{"t": ' + LONG_INT + "}\n").encode())),
    Case("leaderboard-manifest-long-int", ["leaderboard", "results"], "RESULTS_DIR",
         ["run: manifest.json", "integer with more than 4300"],
         results_holding_only(replace_in("results/run/manifest.json", '"seed": 0', '"seed": ' + LONG_INT))),
    Case("resume-state-long-int", RESUME, "run/checkpoints/", ["state.json", "integer with more than 4300"],
         lambda root: write(latest_state(root), '{"t": ' + LONG_INT + "}")(root)),
    # -- lone surrogates, in every reader and as an option value --------------------------------
    Case("config-json-surrogate", ["run", "--config", "s.json"], "s.json", ["model holds a lone surrogate"],
         write("s.json", '{"model": "' + LONE + '"}')),
    Case("config-yaml-surrogate", ["run", "--config", "s.yaml"], "s.yaml", ["model holds a lone surrogate"],
         write("s.yaml", 'model: "' + LONE + '"\n')),
    Case("persona-surrogate", ["personas", "validate", "s.yaml"], "s.yaml", ["background holds a lone surrogate"],
         write("s.yaml", 'id: x\nbackground: "a' + LONE + '"\n')),
    Case("persona-surrogate-run", ["run", "--persona", "s.yaml", "--out", "new"], "s.yaml",
         ["background holds a lone surrogate"], write("s.yaml", 'id: x\nbackground: "a' + LONE + '"\n')),
    Case("pool-surrogate-run", NEW_RUN + ["new"], "persona.yaml: prompts.probe", ["probe.jsonl, line 1", "surrogate"],
         insert_line_in("pools/probe.jsonl", 0, '{"id": "s", "text": "' + LONE + '"}')),
    Case("signal-cases-surrogate", ["signal", "--cases", "cases.jsonl", "--out", "s"], "cases.jsonl, line 1",
         ["lone surrogate"], write("cases.jsonl", '{"id": "' + LONE + '"}\n')),
    Case("conversations-surrogate", ["distill", "--conversations", "c.jsonl", "--out", "d", "--on-error", "reject"],
         "c.jsonl, line 1", ["lone surrogate"],
         write("c.jsonl", '[{"role": "user", "content": "' + LONE + '"}]\n')),
    Case("report-probes-surrogate-key", ["report", "run"], "run/probes.jsonl: line 1",
         ["a key of the top level holds a lone surrogate"], insert_line("probes", 0, b'{"\\udc00": 1}\n')),
    Case("report-manifest-surrogate", ["report", "run"], "run/manifest.json", ["persona.id holds a lone surrogate"],
         replace_in("run/manifest.json", '"id": "tiny"', '"id": "' + LONE + '"')),
    Case("resume-state-surrogate", RESUME, "run/checkpoints/", ["state.json", "lone surrogate"],
         state_tamper('"t": ', '"x": "' + LONE + '", "t": ')),
    Case("learner-option-surrogate", NEW_RUN + ["new", "--learner-option", 'lr="' + LONE + '"'],
         "--learner-option lr", ["lone surrogate"]),
    Case("user-option-surrogate", NEW_RUN + ["new", "--user-option", "name=a\udcff"], "--user-option name",
         ["lone surrogate (\\udcff)"]),
    # -- option values: nested deep, too long, of the wrong type --------------------------------
    Case("learner-option-deep", NEW_RUN + ["new", "--learner-option", "x=" + deep_json()], "--learner-option x",
         ["nested more than 32"]),
    Case("user-option-deep", NEW_RUN + ["new", "--user-option", "x=" + deep_json()], "--user-option x",
         ["nested more than 32"]),
    Case("judge-option-deep", NEW_RUN + ["new", "--judge-option", "x=" + deep_json()], "--judge-option x",
         ["nested more than 32"]),
    Case("report-judge-option-deep", ["report", "run", "--judge", "openai", "--judge-option", "x=" + deep_json()],
         "--judge-option x", ["nested more than 32"]),
    Case("learner-option-long-int", NEW_RUN + ["new", "--learner-option", "lr=" + LONG_INT], "--learner-option lr",
         ["integer with more than 4300"]),
    Case("openai-user-option-wrong-type", NEW_RUN + ["new", "--user", "openai", "--user-option", "base_url=http://x/v1",
                                                     "--user-option", "model=m", "--user-option", "temperature=warm"],
         "--user-option temperature", ["must be a number", "'warm'"]),
    Case("local-user-option-wrong-type", NEW_RUN + ["new", "--user", "local", "--user-option", "max_new_tokens=many"],
         "--user-option max_new_tokens", ["must be an integer", "'many'"]),
    Case("judge-option-wrong-type", NEW_RUN + ["new", *JUDGE, "--judge-option", "max_tokens=lots"],
         "--judge-option max_tokens", ["must be an integer", "'lots'"]),
    Case("judge-concurrency-zero", NEW_RUN + ["new", *JUDGE, "--judge-option", "concurrency=0"], "judge.concurrency",
         ["must be >= 1, got 0"]),
    Case("memory-size-wrong-type", NEW_RUN + ["new", "--learner", "in-context-memory", "--learner-option",
                                              "memory_size=big"], "--learner-option", ["memory_size", "'big'"]),
    # -- the judge reply cache: checked and read before a model loads ----------------------------
    Case("judge-cache-a-folder", NEW_RUN + ["new", *JUDGE, "--judge-option", "cache=pools"], "--judge-option cache",
         ["pools is a folder"]),
    Case("judge-cache-under-dev-null", NEW_RUN + ["new", *JUDGE, "--judge-option", "cache=/dev/null/c.jsonl"],
         "--judge-option cache", ["/dev/null is not a folder"]),
    Case("judge-cache-read-only-folder", NEW_RUN + ["new", *JUDGE, "--judge-option", "cache=ro/c.jsonl"],
         "--judge-option cache", ["ro is not writable"], make_dir("ro"), needs="read-only"),
    Case("judge-cache-immutable-folder", NEW_RUN + ["new", *JUDGE, "--judge-option", "cache=imm/c.jsonl"],
         "--judge-option cache", ["imm is not writable"], make_dir("imm"), needs="immutable"),
    Case("judge-cache-deep-line", NEW_RUN + ["new", *JUDGE, "--judge-option", "cache=c.jsonl"],
         "judge cache c.jsonl: line 1", ["nested more than 32", "cache=off"], write("c.jsonl", deep_json() + "\n")),
    Case("judge-cache-bad-bytes", ["report", "run", *JUDGE, "--judge-option", "cache=c.jsonl"],
         "judge cache c.jsonl: line 1", ["not UTF-8"], write("c.jsonl", b'{"key": "\xff", "reply": "A"}\n')),
    # -- paths beyond the file system's limits -------------------------------------------------
    Case("run-persona-name-too-long", ["run", "--persona", LONG_NAME + ".yaml", "--out", "new"], "--persona",
         ["255-byte limit"]),
    Case("run-out-name-too-long", NEW_RUN + [LONG_NAME], "--out", ["255-byte limit"]),
    Case("run-out-path-too-long", NEW_RUN + [LONG_PATH], "--out", ["4095-byte limit"]),
    Case("run-config-name-too-long", ["run", "--config", LONG_NAME + ".json"], "--config", ["255-byte limit"]),
    Case("personas-validate-name-too-long", ["personas", "validate", LONG_NAME], "FILE", ["255-byte limit"]),
    Case("report-run-dir-name-too-long", ["report", LONG_NAME], "RUN_DIR", ["255-byte limit"]),
    Case("report-out-name-too-long", ["report", "run", "--out", LONG_NAME], "--out", ["255-byte limit"]),
    Case("leaderboard-out-name-too-long", ["leaderboard", ".", "--out", LONG_NAME], "--out", ["255-byte limit"]),
    Case("sweep-out-name-too-long", SWEEP + ["--out", LONG_NAME], "--out", ["255-byte limit"], sweep_config),
    Case("judge-cache-name-too-long", NEW_RUN + ["new", *JUDGE, "--judge-option", f"cache={LONG_NAME}"],
         "--judge-option cache", ["255-byte limit"]),
    Case("run-model-name-too-long", NEW_RUN + ["new", "--model", LONG_NAME], "--model",
         ["is not a usable path (File name too long)"]),
    Case("persona-pool-name-too-long", ["personas", "validate", "persona.yaml"], "persona.yaml: prompts.train",
         ["255-byte limit"], replace_in("persona.yaml", "pools/train.jsonl", LONG_NAME + ".jsonl")),
    # -- a .gguf that is not a GGUF file: refused before a model loads ---------------------------
    Case("run-gguf-wrong-magic", NEW_RUN + ["new", "--model", "m.gguf"], "--model", ["not a GGUF file"],
         gguf("m.gguf", b"PK\x03\x04" + bytes(40))),
    Case("run-gguf-truncated-header", NEW_RUN + ["new", "--model", "m.gguf"], "--model",
         ["GGUF header truncated (12 of 24 bytes)"], gguf("m.gguf", b"GGUF" + struct.pack("<IQ", 3, 1)[:8])),
    Case("run-gguf-absurd-counts", NEW_RUN + ["new", "--model", "m.gguf"], "--model", ["GGUF header is corrupt"],
         gguf("m.gguf", struct.pack("<4sIQQ", b"GGUF", 3, 2**60, 2**60))),
    Case("run-llama-cpp-gguf-wrong-magic", NEW_RUN + ["new", "--backend", "llama-cpp", "--device", "cpu", "--model",
                                                      "m.gguf"], "--model", ["not a GGUF file"],
         gguf("m.gguf", b"\x00" * 64)),
    # -- numeric flags whose memory grows with the value, and seeds ------------------------------
    Case("report-bootstrap-huge", ["report", "run", "--bootstrap", str(10**15)], "Invalid value for '--bootstrap'",
         ["100000"]),
    Case("leaderboard-bootstrap-huge", ["leaderboard", ".", "--bootstrap", str(10**15)],
         "Invalid value for '--bootstrap'", ["100000"]),
    Case("teachability-bootstrap-huge", ["teachability", "--out", "t", "--bootstrap", str(10**15)],
         "Invalid value for '--bootstrap'", ["100000"]),
    Case("run-seed-beyond-32-bits", NEW_RUN + ["new", "--seed", str(2**70)], "--seed", ["4294967295"]),
    Case("sweep-seeds-beyond-32-bits", SWEEP + ["--out", "r", "--seeds", str(2**70)], "Invalid value for '--seeds'",
         ["4294967295"], sweep_config),
    Case("distill-seed-beyond-32-bits", ["distill", "--conversations", "c.jsonl", "--out", "d", "--seed",
                                         str(2**40)], "Invalid value for '--seed'", ["4294967295"]),
    Case("run-batch-size-huge", NEW_RUN + ["new", "--batch-size", str(10**9)], "--batch-size", ["1024"]),
    Case("run-interactions-huge", NEW_RUN + ["new", "--interactions", str(10**12)], "--interactions", ["100000"]),
    Case("run-max-new-tokens-huge", NEW_RUN + ["new", "--max-new-tokens", str(10**12)], "--max-new-tokens", ["4096"]),
]


@pytest.mark.parametrize("case", READER_ROWS, ids=[case.id for case in READER_ROWS])
def test_reader_and_preflight_rows_exit_2_with_one_line_and_change_nothing(case, base, tmp_path, monkeypatch,
                                                                          capsys, one_torch_thread):
    check_row(case, base, tmp_path, monkeypatch, capsys, one_torch_thread)


def test_the_reader_rows_are_many_and_named_once():
    assert len(READER_ROWS) >= 30 and len({case.id for case in READER_ROWS}) == len(READER_ROWS)
# ---- end of readers and preflight rows


# ---- fuzz findings rows
# Inputs tests/reliability/test_fuzz.py found ending in a traceback or in stray stderr output.
# A run folder whose values are valid but absurd (a peak memory of -Infinity, log values near
# the float limit, a learner named in glyphs no font has) is still a run: `report` and
# `leaderboard` accept it (exit 0), leave the absurd number out or write it as null, and print
# nothing on stderr but warnings.

import json  # noqa: E402  (this block's own imports; the block above owns the header)
import shutil  # noqa: E402

from reliability_helpers import strict_json  # noqa: E402
from test_bad_input_table import edit_first_record, edit_json  # noqa: E402
from test_fuzz import run_cli  # noqa: E402  (main in process, Python warnings shown as on stderr)


def every_record(log: str, change: dict) -> Callable[[Path], None]:
    def tamper(root: Path) -> None:
        path = root / "run" / f"{log}.jsonl"
        lines = path.read_text(encoding="utf-8").splitlines()
        path.write_text("".join(json.dumps({**json.loads(line), **change}) + "\n" for line in lines),
                        encoding="utf-8")
    return tamper


REPORT = ["report", "run", "--out", "rep", "--bootstrap", "3"]
LEADERBOARD = ["leaderboard", ".", "--out", "lb", "--bootstrap", "3"]
NEG_INF_PEAK = edit_json("run/manifest.json", lambda m: m.update(peak_rss_mb=float("-inf")))
NO_CONTENT = edit_first_record("interactions", {"messages": [{"role": "user"}]})
HUGE_INT_PEAK = edit_json("run/manifest.json", lambda m: m.update(peak_rss_mb=10 ** 400))

# (id, args, tamper, the output file that must be strict JSON or "")
ACCEPTED_ROWS = [
    ("report-manifest-peak-memory-minus-infinity", REPORT, NEG_INF_PEAK, ""),
    ("leaderboard-manifest-peak-memory-minus-infinity", LEADERBOARD, NEG_INF_PEAK, "lb/leaderboard.json"),
    ("report-update-stats-peak-memory-minus-infinity", REPORT,
     lambda root: every_record("updates", {"stats": {"peak_rss_mb": -1e999}})(root), ""),
    ("report-drift-near-float-limit", REPORT, every_record("drift", {"nll_frozen": 1e308}), ""),
    ("leaderboard-drift-near-float-limit", LEADERBOARD, every_record("drift", {"nll_frozen": 1e308}),
     "lb/leaderboard.json"),
    ("leaderboard-learner-named-in-glyphs-no-font-has", LEADERBOARD,
     edit_json("run/manifest.json", lambda m: m.update(learner="\U000b5de5\U000bf5b6")),
     "lb/leaderboard.json"),
]


@pytest.mark.parametrize(("row_id", "args", "tamper", "json_out"), ACCEPTED_ROWS, ids=[r[0] for r in ACCEPTED_ROWS])
def test_fuzz_finding_an_absurd_but_valid_run_is_reported_without_traceback_or_stray_stderr(
        row_id, args, tamper, json_out, base, tmp_path, monkeypatch, capsys, one_torch_thread):
    root = tmp_path / "case"
    shutil.copytree(base, root, ignore=shutil.ignore_patterns("checkpoints"))
    tamper(root)
    monkeypatch.chdir(root)
    code, _, err, escaped = run_cli(args, capsys)
    assert not escaped and code == 0, escaped or err
    assert [line for line in err.splitlines() if not line.startswith("warning: ")] == [], err
    if json_out:
        strict_json((root / json_out).read_text(encoding="utf-8"))


# An integer beyond float range where the manifest expects a number is refused as such; so is
# a logged chat message without content (the report used to crash printing it).
FUZZ_ROWS = [
    Case("report-manifest-peak-memory-beyond-float", ["report", "run"], "run/manifest.json: peak_rss_mb",
         ["valid number"], HUGE_INT_PEAK),
    Case("report-interaction-message-without-content", ["report", "run"], "run/interactions.jsonl: line 1",
         ["messages", "message 0 has no 'content'"], NO_CONTENT),
    Case("leaderboard-interaction-message-without-content", ["leaderboard", "."], "RESULTS_DIR",
         ["message 0 has no 'content'"], NO_CONTENT),
]


@pytest.mark.parametrize("case", FUZZ_ROWS, ids=[case.id for case in FUZZ_ROWS])
def test_fuzz_finding_rows_exit_2_with_one_line_and_change_nothing(case, base, tmp_path, monkeypatch, capsys,
                                                                  one_torch_thread):
    check_row(case, base, tmp_path, monkeypatch, capsys, one_torch_thread)
# ---- end of fuzz findings rows
