"""Bad input never crashes and never writes: every case in corpus/ (and each nonsensical flag)
fails with ONE line naming the file or flag and the problem, exit code 2, no traceback, and
leaves the working directory and --out untouched.

Most cases run in-process through `simbench.cli.main`; a representative few run the real
`python -m simbench` in a subprocess.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from reliability_helpers import run_cli

from simbench.cli import main

CORPUS = Path(__file__).resolve().parent / "corpus"
PERSONAS = CORPUS / "personas"
CONVERSATIONS = CORPUS / "conversations"
CONFIGS = CORPUS / "configs"

# Persona file -> fragments the error must contain after "error: <file>".
PERSONA_CASES = {
    "syntax-unclosed-bracket.yaml": ["line 7, column 1", "YAML error", "expected ',' or ']'"],
    "syntax-tab-indent.yaml": ["line 5", "YAML error", "'\\t'"],
    "control-character.yaml": ["YAML error", "#x0007"],
    "unknown-top-key.yaml": ["unknown key 'schedul'", "did you mean 'schedule'?"],
    "unknown-phase-key.yaml": ["schedule[0]", "unknown key 'prefs'", "did you mean 'preferences'?"],
    "unknown-preference.yaml": ["schedule[0].preferences[0]", "unknown preference 'concize'",
                                "did you mean 'concise'?"],
    "contradictory-phase.yaml": ["schedule[0].preferences[1]", "'detailed' and its opposite 'concise'",
                                 "active together"],
    "unordered-phases.yaml": ["schedule[2].at", "before schedule[1]"],
    "first-phase-late.yaml": ["schedule[0].at", "must start at 0, got 5"],
    "phase-beyond-episode.yaml": ["schedule[1].at", "beyond the episode (interactions: 20)"],
    "wrong-type-interactions.yaml": ["interactions", "valid integer", "'sixty'"],
    "wrong-type-schedule.yaml": ["schedule", "valid list", "'concise'"],
    "negative-interactions.yaml": ["interactions", "must be >= 1, got -5"],
    "float-phase-start.yaml": ["schedule[0].at", "valid integer", "0.5"],
    "empty.yaml": ["empty file"],
    "comments-only.yaml": ["empty file"],
    "top-level-list.yaml": ["top level must be a mapping", "got list"],
    "non-utf8.yaml": ["line 2", "not UTF-8", "0xe9"],
    "alias-bomb.yaml": ["line 2", "YAML aliases (*name) are not allowed"],
    "python-object-apply.yaml": ["line 2", "could not determine a constructor", "python/object/apply:os.system"],
    "python-name-tag.yaml": ["line 3", "could not determine a constructor", "python/name:os.system"],
    "duplicate-key.yaml": ["line 7", "duplicate key 'schedule'"],
    "missing-background.yaml": ["missing required field 'background'"],
    "noise-out-of-range.yaml": ["noise.irrelevant_rate", "must be <= 1.0, got 1.5"],
    "bad-local-regex.yaml": ["preferences[0].check.forbid_regex", "invalid regex '(unclosed'"],
    "bad-slug-id.yaml": ["id", "'My Persona' is not a lowercase slug"],
    "prompt-path-escapes.yaml": ["prompts.train", "resolves outside the persona's folder",
                                 "allow_outside_paths"],
    "prompt-file-missing.yaml": ["prompts.train", "does-not-exist.jsonl: file not found"],
    # Prompt pools (JSONL) behind a persona: the error names persona, field, pool file and line.
    "pool-malformed-line.yaml": ["prompts.train", "malformed-line.jsonl, line 3", "malformed JSON"],
    "pool-missing-text.yaml": ["missing-text.jsonl, line 2, field 'text'", "missing"],
    "pool-not-an-object.yaml": ["not-an-object.jsonl, line 2", "expected a JSON object, got list"],
    "pool-empty-text.yaml": ["empty-text.jsonl, line 2, field 'text'", "is empty"],
    "pool-wrong-type-text.yaml": ["wrong-type-text.jsonl, line 1, field 'text'", "must be a string, got int"],
    "pool-unknown-field.yaml": ["unknown-field.jsonl, line 1, field 'txt'", "did you mean 'text'?"],
    "pool-duplicate-ids.yaml": ["duplicate-ids.jsonl, line 3, field 'id'", "duplicate id 'p1'"],
    "pool-empty.yaml": ["empty.jsonl", "file is empty"],
    "pool-non-utf8.yaml": ["non-utf8.jsonl, line 2", "not valid UTF-8", "0xe9"],
    "pool-overlaps-probe.yaml": ["prompts", "also appear in the training pool", "probe-001 = mine-1"],
}

# Conversation log -> fragments of `simbench distill --on-error reject`'s error.
CONVERSATION_CASES = {
    "wrong-role.jsonl": ["line 2", "unknown role 'human'"],
    "empty-message.jsonl": ["line 1", "message 1: empty 'content'"],
    "missing-content.jsonl": ["line 1", "message 1: missing 'content'"],
    "content-not-string.jsonl": ["line 1", "'content' must be a string, got list"],
    "not-a-list.jsonl": ["line 1", "expected a JSON list of messages, got dict"],
    "malformed-json.jsonl": ["line 2", "malformed JSON"],
    "empty-conversation.jsonl": ["line 1", "empty conversation"],
    "no-follow-up.jsonl": ["no (x, y, o) tuples"],
}

# --config file -> fragments.
CONFIG_CASES = {
    "unknown-setting.yaml": ["batch_sise", "unknown setting", "did you mean 'batch_size'?"],
    "python-tag.yaml": ["cannot parse", "python/object/apply:os.system"],
    "alias-bomb.yaml": ["cannot parse", "YAML aliases (*name) are not allowed"],
    "wrong-type.json": ["interactions", "valid integer", "'many'"],
    "not-a-mapping.yaml": ["must be a mapping of run settings"],
    "probe-not-multiple.yaml": ["probe_every", "multiple of batch_size=8"],
}

# Nonsensical flags: (args, start of the error after "error: ", fragments).
FLAG_CASES = [
    (["run", "--interactions", "-3"], "--interactions", ["greater than or equal to 1", "got -3"]),
    (["run", "--interactions", "0"], "--interactions", ["greater than or equal to 1", "got 0"]),
    (["run", "--interactions", "abc"], "Invalid value for '--interactions'", ["valid integer"]),
    (["run", "--probe-every", "0"], "--probe-every", ["greater than or equal to 1", "got 0"]),
    (["run", "--batch-size", "3", "--probe-every", "4"], "--probe-every", ["multiple of batch_size=3"]),
    (["run", "--batch-size", "0"], "--batch-size", ["greater than or equal to 1"]),
    (["run", "--turns", "9"], "--turns", ["less than or equal to 8", "got 9"]),
    (["run", "--max-new-tokens", "0"], "--max-new-tokens", ["greater than or equal to 1"]),
    (["run", "--seed", "-1"], "--seed", ["greater than or equal to 0", "got -1"]),
    (["run", "--probe-prompts", "10000"], "--probe-prompts", ["10000 requested", "probe pool has"]),
    (["run", "--learner", "sdpo-tokn"], "--learner", ["unknown learner 'sdpo-tokn'", "did you mean 'sdpo-token'?"]),
    (["run", "--backend", "hff"], "--backend", ["unknown policy backend 'hff'", "did you mean 'hf'?"]),
    (["run", "--backend", "llama-cpp", "--model", "smollm2-135m-fr"], "--model",
     ["--backend llama-cpp needs a GGUF model", "'smollm2-135m-fr' is not one"]),
    (["run", "--user", "openaii"], "--user", ["unknown user simulator 'openaii'", "did you mean 'openai'?"]),
    (["run", "--persona", "concize"], "--persona 'concize'", ["no such persona", "did you mean 'concise'?"]),
    (["run", "--learner-option", "lr"], "--learner-option", ["expected KEY=VALUE", "'lr'"]),
    (["run", "--user-option", "=1"], "--user-option", ["expected KEY=VALUE"]),
    (["run", "--config", "missing.yaml"], "--config", ["file not found"]),
    (["run", "--resume"], "--resume", ["no run to resume", "manifest.json missing"]),
    (["run", "--bogus"], "No such option: --bogus", []),
    (["frobnicate"], "No such command 'frobnicate'", []),
    (["distill", "--conversations", "c.jsonl"], "Missing option '--out'", []),
    (["distill", "--conversations", str(CONVERSATIONS / "wrong-role.jsonl"), "--out", "o", "--k", "0"],
     "Invalid value for '--k'", ["greater than or equal to 1"]),
    (["distill", "--conversations", str(CONVERSATIONS / "wrong-role.jsonl"), "--out", "o", "--loss", "tokn"],
     "--loss", ["bad value 'tokn'", "did you mean 'token'?"]),
    (["distill", "--conversations", str(CONVERSATIONS / "wrong-role.jsonl"), "--out", "o", "--on-error", "ignore"],
     "--on-error", ["bad value 'ignore'"]),
    (["distill", "--conversations", "absent.jsonl", "--out", "o"], "absent.jsonl", ["file not found"]),
    (["report", "no-such-run"], "RUN_DIR", ["not a folder"]),
    (["personas", "validate", "concize"], "FILE 'concize'", ["no such persona", "did you mean 'concise'?"]),
]


@pytest.fixture
def workdir(tmp_path, monkeypatch) -> Path:
    """An empty working directory; tests assert it is still empty afterwards."""
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    monkeypatch.chdir(cwd)
    return cwd


def fails_cleanly(args: list[str], capsys, warnings: int = 0) -> str:
    """Run the CLI in-process; it must exit 2 with one error line (after `warnings` warning
    lines) on stderr and nothing on stdout. Returns the error after "error: "."""
    with pytest.raises(SystemExit) as exit_info:
        main(args)
    captured = capsys.readouterr()
    assert exit_info.value.code == 2, captured.err
    assert "Traceback" not in captured.err and captured.out == ""
    lines = captured.err.strip().splitlines()
    assert len(lines) == warnings + 1 and lines[-1].startswith("error: "), captured.err
    assert all(line.startswith("warning: ") for line in lines[:-1]), captured.err
    return lines[-1][len("error: "):]


def assert_error(message: str, where: str, fragments: list[str]) -> None:
    assert message.startswith(where), message
    for fragment in fragments:
        assert fragment in message, f"{fragment!r} not in {message!r}"


@pytest.mark.parametrize("name", sorted(PERSONA_CASES))
def test_bad_persona_file_fails_with_one_line_naming_it_and_writes_nothing(name, workdir, capsys):
    path = str(PERSONAS / name)
    out = workdir / "out"
    assert_error(fails_cleanly(["run", "--persona", path, "--out", str(out)], capsys), path, PERSONA_CASES[name])
    assert_error(fails_cleanly(["personas", "validate", path], capsys), path, PERSONA_CASES[name])
    assert list(workdir.iterdir()) == []


@pytest.mark.parametrize("name", sorted(CONVERSATION_CASES))
def test_bad_conversation_log_fails_with_one_line_naming_it_and_writes_nothing(name, workdir, capsys):
    path = str(CONVERSATIONS / name)
    args = ["distill", "--conversations", path, "--out", str(workdir / "out"), "--on-error", "reject"]
    assert_error(fails_cleanly(args, capsys), path, CONVERSATION_CASES[name])
    assert list(workdir.iterdir()) == []


def test_conversation_log_with_only_bad_lines_fails_even_when_bad_lines_are_skipped(workdir, capsys):
    only_bad = workdir.parent / "only-bad.jsonl"
    only_bad.write_bytes((CONVERSATIONS / "wrong-role.jsonl").read_bytes().splitlines(keepends=True)[1])
    args = ["distill", "--conversations", str(only_bad), "--out", str(workdir / "out")]
    message = fails_cleanly(args, capsys, warnings=1)  # skipped lines are warned about, one each
    assert_error(message, str(only_bad), ["no (x, y, o) tuples", "0 valid conversation(s), 1 bad line(s)"])
    assert list(workdir.iterdir()) == []


@pytest.mark.parametrize("name", sorted(CONFIG_CASES))
def test_bad_config_file_fails_with_one_line_naming_it_and_writes_nothing(name, workdir, capsys):
    path = str(CONFIGS / name)
    assert_error(fails_cleanly(["run", "--config", path, "--out", str(workdir / "out")], capsys),
                 path, CONFIG_CASES[name])
    assert list(workdir.iterdir()) == []


@pytest.mark.parametrize(("args", "where", "fragments"), FLAG_CASES, ids=[" ".join(c[0])[:60] for c in FLAG_CASES])
def test_nonsensical_flag_fails_with_one_line_naming_it_and_writes_nothing(args, where, fragments, workdir,
                                                                          capsys):
    assert_error(fails_cleanly(args, capsys), where, fragments)
    assert list(workdir.iterdir()) == []


def test_out_folder_holding_files_is_refused_and_left_as_it_was(workdir, capsys):
    (workdir / "previous").mkdir()
    (workdir / "previous" / "notes.txt").write_text("mine", encoding="utf-8")
    message = fails_cleanly(["run", "--out", "previous"], capsys)
    assert_error(message, "--out", ["previous already holds files", "--resume"])
    assert [p.name for p in (workdir / "previous").iterdir()] == ["notes.txt"]
    assert [p.name for p in workdir.iterdir()] == ["previous"]


def test_a_50_megabyte_persona_file_is_refused_without_being_read_whole(tmp_path, workdir, capsys):
    huge = tmp_path / "huge.yaml"
    with open(huge, "wb") as handle:
        handle.write(b"id: huge\nname: Huge\nbackground: >\n")
        line = b"  " + b"lorem ipsum " * 20 + b"\n"
        handle.write(line * (50_000_000 // len(line) + 1))
        handle.write(b"schedule:\n  - at: 0\n    preferences: [concise]\n")
    assert huge.stat().st_size > 50_000_000
    message = fails_cleanly(["run", "--persona", str(huge), "--out", str(workdir / "out")], capsys)
    assert_error(message, str(huge), ["file is", "bytes, above the 1000000-byte limit"])
    assert list(workdir.iterdir()) == []


def test_every_corpus_file_has_an_expected_error():
    """A file added to corpus/ without an expectation (or one left behind by a test) fails."""
    assert sorted(p.name for p in PERSONAS.glob("*") if p.is_file()) == sorted(PERSONA_CASES)
    assert sorted(p.name for p in CONVERSATIONS.iterdir()) == sorted(CONVERSATION_CASES)
    assert sorted(p.name for p in CONFIGS.iterdir()) == sorted(CONFIG_CASES)
    pools = {p.name for p in (PERSONAS / "pools").iterdir()}
    used = {line.split("pools/", 1)[1].strip() for name in PERSONA_CASES
            for line in (PERSONAS / name).read_bytes().decode("utf-8", "replace").splitlines()
            if "pools/" in line}
    assert pools == used - {"does-not-exist.jsonl"}
    cases = len(PERSONA_CASES) + len(CONVERSATION_CASES) + len(CONFIG_CASES) + len(FLAG_CASES) + 1
    assert cases >= 30


OUT = "<out>"  # replaced by a folder inside the subprocess's working directory
SUBPROCESS_CASES = [
    (["run", "--persona", str(PERSONAS / "alias-bomb.yaml"), "--out", OUT], str(PERSONAS / "alias-bomb.yaml")),
    (["run", "--persona", str(PERSONAS / "pool-malformed-line.yaml"), "--out", OUT],
     str(PERSONAS / "pool-malformed-line.yaml")),
    (["personas", "validate", str(PERSONAS / "python-object-apply.yaml")], str(PERSONAS / "python-object-apply.yaml")),
    (["distill", "--conversations", str(CONVERSATIONS / "wrong-role.jsonl"), "--on-error", "reject", "--out", OUT],
     str(CONVERSATIONS / "wrong-role.jsonl")),
    (["run", "--learner", "sdpo-tokn", "--out", OUT], "--learner"),
    (["run", "--interactions", "abc", "--out", OUT], "Invalid value for '--interactions'"),
]


@pytest.mark.parametrize(("args", "where"), SUBPROCESS_CASES,
                         ids=[f"{c[0][0]}-{i}" for i, c in enumerate(SUBPROCESS_CASES)])
def test_real_cli_process_exits_2_with_one_line_and_an_empty_working_directory(args, where, tmp_path):
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    args = [str(cwd / "out") if a == OUT else a for a in args]
    result = run_cli(*args, cwd=cwd, timeout=60)
    assert result.returncode == 2, result.stderr
    assert result.stdout == "" and "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: {where}"), result.stderr
    assert list(cwd.iterdir()) == []
