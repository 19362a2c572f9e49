"""Exit codes come from one table (simbench/errors.py, shown in docs/guarantees.md), and the
conditions a user can cause end in it with one line: missing optional packages (exit 2),
judge settings without their required keys (exit 2), an unreachable judge (exit 3, nothing
written) and quiet retries (at most one line per endpoint).

A missing package is simulated as Python reports one: `sys.modules[name] = None` makes
`import name` raise ImportError. Endpoints are real sockets on 127.0.0.1.
"""

from __future__ import annotations

import importlib
import itertools
import json
import logging
import pkgutil
import re
import shutil
import socket
import sys
from pathlib import Path

import pytest
from cli_inprocess import run_main
from scripted_server import ScriptedServer

import simbench
from simbench.errors import EXIT_BUG, EXIT_CODES, EXIT_ENDPOINT, EXIT_INPUT, EXIT_OK, SimbenchError

REPO = Path(__file__).resolve().parents[2]
REFERENCE = REPO / "results" / "cpu-reference"
ENDPOINT_LOGGER = "simbench.users.endpoint"


def _closed_port() -> int:
    """A port on 127.0.0.1 nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _tree(folder: Path) -> dict[str, tuple[bytes, int]]:
    """Every file under `folder` with its bytes and modification time."""
    return {str(p.relative_to(folder)): (p.read_bytes(), p.stat().st_mtime_ns)
            for p in sorted(folder.rglob("*")) if p.is_file()}


def _quick_judge(base_url: str, cache: Path) -> list[str]:
    """`--judge openai` flags with two fast attempts and the reply cache at `cache`."""
    options = {"base_url": base_url, "model": "judge-model", "api_key_env": "null", "max_attempts": "2",
               "backoff_base": "0.01", "backoff_max": "0.02", "cache": str(cache)}
    return ["--judge", "openai", *itertools.chain.from_iterable(
        ("--judge-option", f"{key}={value}") for key, value in options.items())]


def _one_error_line(stderr: str) -> str:
    assert "Traceback" not in stderr, stderr
    assert stderr.count("\n") == 1 and stderr.startswith("error: "), stderr
    return stderr


# ---------------------------------------------------------------------------- the table


def _docs_exit_codes() -> dict[int, str]:
    text = (REPO / "docs" / "guarantees.md").read_text(encoding="utf-8")
    section = text.split("\n## Exit codes\n", 1)[1].split("\n## ", 1)[0]
    rows = re.findall(r"^\| (\d+) \| (.+?) \|$", section, flags=re.MULTILINE)
    return {int(code): meaning for code, meaning in rows}


def test_the_exit_code_table_in_the_docs_is_the_table_in_the_code():
    assert _docs_exit_codes() == EXIT_CODES


def _all_error_classes() -> list[type[SimbenchError]]:
    for module in pkgutil.walk_packages(simbench.__path__, "simbench."):
        if not module.name.endswith("__main__"):  # that one runs the CLI
            importlib.import_module(module.name)
    found, todo = [], [SimbenchError]
    while todo:
        cls = todo.pop()
        found.append(cls)
        todo += cls.__subclasses__()
    return found


def test_every_error_class_exits_with_a_code_of_the_table_and_none_with_the_bug_code():
    classes = _all_error_classes()
    assert {"InputError", "UserSimulatorError", "JudgeError", "PolicyError", "NumericalError",
            "FolderInUse"} <= {cls.__name__ for cls in classes}
    for cls in classes:
        assert cls.exit_code in EXIT_CODES, cls
        if cls is not SimbenchError:
            assert cls.exit_code not in (EXIT_OK, EXIT_BUG), cls


# ---------------------------------------------------------------------------- missing packages


@pytest.mark.parametrize("module, args, flag, install", [
    ("vllm", ["run", "--backend", "vllm", "--quiet"], "--backend vllm", "pip install 'simbench-online[vllm]'"),
    ("llama_cpp", ["run", "--backend", "llama-cpp", "--quiet"], "--backend llama-cpp",
     "pip install 'simbench-online[llamacpp]'"),
    ("ray", ["sweep", "--personas", "concise-only", "--learners", "frozen", "--executor", "ray", "--quiet"],
     "--executor ray", "pip install 'simbench-online[ray]'"),
])
def test_a_missing_optional_package_is_one_line_exit_2_with_the_install_command_and_no_folder(
        module, args, flag, install, tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, module, None)
    monkeypatch.chdir(tmp_path)
    code, _, stderr = run_main(capsys, *args, "--out", tmp_path / "out")
    assert code == EXIT_INPUT
    assert _one_error_line(stderr).startswith(f"error: {flag}: ") and install in stderr
    assert list(tmp_path.iterdir()) == []


def test_a_missing_openai_package_is_one_line_exit_2_for_the_judge_and_the_user(tmp_path, monkeypatch, capsys,
                                                                               tiny_model_dir):
    run_dir = tmp_path / "run"
    shutil.copytree(REFERENCE / "complementary-48--frozen--s0", run_dir)
    before = _tree(tmp_path)
    monkeypatch.setitem(sys.modules, "openai", None)
    code, _, stderr = run_main(capsys, "report", run_dir, *_quick_judge("http://127.0.0.1:9/v1", tmp_path / "c"))
    assert code == EXIT_INPUT and _one_error_line(stderr).startswith("error: --judge openai: openai cannot be imported")
    code, _, stderr = run_main(capsys, "run", "--model", tiny_model_dir, "--user", "openai", "--out",
                               tmp_path / "new", "--quiet", "--user-option", "base_url=http://127.0.0.1:9/v1",
                               "--user-option", "model=m", "--user-option", "api_key_env=null")
    assert code == EXIT_INPUT and _one_error_line(stderr).startswith("error: --user openai: openai cannot be imported")
    assert "pip install openai" in stderr
    assert _tree(tmp_path) == before


# ---------------------------------------------------------------------------- judge settings


@pytest.mark.parametrize("options, expected", [
    ([], "error: --judge-option: judge 'openai' needs base_url, model (add --judge-option base_url=..."),
    (["--judge-option", "base_url=http://127.0.0.1:9/v1"], "judge 'openai' needs model"),
    (["--judge-option", "base_url=http://127.0.0.1:9/v1", "--judge-option", "modle=m"],
     "judge 'openai' has no option 'modle' (did you mean 'model'?"),
])
@pytest.mark.parametrize("command", ["report", "leaderboard", "run"])
def test_judge_settings_without_their_required_keys_are_one_line_naming_the_keys(
        command, options, expected, tmp_path, capsys, tiny_model_dir):
    folder = tmp_path / "runs" / "complementary-48--frozen--s0"
    shutil.copytree(REFERENCE / folder.name, folder)
    before = _tree(tmp_path)
    target = {"report": [folder], "leaderboard": [folder.parent],
              "run": ["--model", tiny_model_dir, "--out", tmp_path / "new", "--quiet"]}[command]
    code, _, stderr = run_main(capsys, command, *target, "--judge", "openai", *options)
    assert code == EXIT_INPUT and expected in _one_error_line(stderr)
    assert "__init__" not in stderr and "positional" not in stderr
    assert _tree(tmp_path) == before


def test_user_options_without_their_required_keys_are_one_line_naming_the_keys(tmp_path, capsys, tiny_model_dir):
    code, _, stderr = run_main(capsys, "run", "--model", tiny_model_dir, "--user", "openai", "--out",
                               tmp_path / "new", "--quiet", "--user-option", "model=m")
    assert code == EXIT_INPUT
    assert "error: --user-option: user 'openai' needs base_url" in _one_error_line(stderr)
    assert list(tmp_path.iterdir()) == []


# ---------------------------------------------------------------------------- judge down


@pytest.mark.parametrize("command, runs", [
    ("report", ["complementary-48--in-context-oracle--s0"]),
    ("leaderboard", ["complementary-48--frozen--s0", "complementary-48--in-context-oracle--s0"]),
])
def test_an_unreachable_judge_exits_3_in_one_line_and_writes_nothing(command, runs, tmp_path, capsys, caplog):
    results = tmp_path / "results"
    for name in runs:
        shutil.copytree(REFERENCE / name, results / name)
    before = _tree(tmp_path)
    base_url = f"http://127.0.0.1:{_closed_port()}/v1"
    target = results / runs[0] if command == "report" else results  # reports go beside the logs
    with caplog.at_level(logging.DEBUG, logger=ENDPOINT_LOGGER):
        code, stdout, stderr = run_main(capsys, command, target, *_quick_judge(base_url, tmp_path / "cache.jsonl"))
    assert code == EXIT_ENDPOINT == 3 and stdout == ""
    line = _one_error_line(stderr)
    assert line.startswith(f"error: judge endpoint {base_url} (model 'judge-model') failed after 2 attempts over ")
    assert "Connection refused" in line and "is a server listening at" in line
    # Each failed attempt is debug noise; giving up is the error line, not a warning more.
    assert [r for r in caplog.records if r.name == ENDPOINT_LOGGER and r.levelno >= logging.WARNING] == []
    assert any(r.levelno == logging.DEBUG and "attempt 1/2 failed" in r.getMessage() for r in caplog.records)
    assert _tree(tmp_path) == before  # no report, no leaderboard, no cache file


def test_retries_that_recover_are_one_warning_line_per_endpoint(caplog):
    from simbench.judge import EndpointJudge

    served = itertools.count()
    # Every first attempt gets an empty reply (retried as malformed), its retry an answer.
    with ScriptedServer(reply=lambda body: "" if next(served) % 2 == 0 else "YES") as server:
        judge = EndpointJudge(server.base_url, "j", api_key_env=None, backoff_base=0.01, cache="off",
                              concurrency=1)
        with caplog.at_level(logging.WARNING, logger=ENDPOINT_LOGGER):
            results = judge.score_many([(f"Q{i}?", "answer", "rubric") for i in range(3)])
        assert len(server.requests) == 6
    assert [r.passed for r in results] == [True, True, True]
    warnings = [r.getMessage() for r in caplog.records if r.name == ENDPOINT_LOGGER]
    assert len(warnings) == 1
    assert warnings[0].startswith(f"warning: judge endpoint {server.base_url} needed retries: answered at "
                                  "attempt 2/5") and "empty content" in warnings[0]


JUDGED_PERSONA = """\
id: poetic-and-short
name: Short poems
background: A reader who wants short, lyrical answers.
interactions: 4
schedule:
  - at: 0
    preferences: [concise, poetic]
"""


def test_a_judge_down_during_a_run_exits_3_and_resume_continues_once_it_is_back(tmp_path, capsys, tiny_model_dir,
                                                                                 one_torch_thread):
    from reliability_helpers import write_run_config

    persona = tmp_path / "poetic.yaml"
    persona.write_text(JUDGED_PERSONA)
    judge = {"down": True}
    # Down: every reply is empty, so each rubric question exhausts its attempts.
    with ScriptedServer(reply=lambda body: "" if judge["down"] else "YES") as server:
        config = write_run_config(tmp_path / "run.json", tiny_model_dir, persona=str(persona), learner="frozen",
                                  interactions=4, batch_size=2, probe_every=2, judge="openai",
                                  judge_options={"base_url": server.base_url, "model": "j", "api_key_env": None,
                                                 "max_attempts": 2, "backoff_base": 0.01, "cache": "off"})
        run_dir = tmp_path / "run"
        code, _, stderr = run_main(capsys, "run", "--config", config, "--out", run_dir, "--quiet")
        assert code == EXIT_ENDPOINT
        assert _one_error_line(stderr).startswith(f"error: judge endpoint {server.base_url} (model 'j') failed")
        judge["down"] = False
        code, _, stderr = run_main(capsys, "run", "--config", config, "--out", run_dir, "--quiet", "--resume")
        assert code == 0, stderr
    manifest = json.loads((run_dir / "manifest.json").read_text())
    assert manifest["status"] == "complete" and manifest["position"] == 4
