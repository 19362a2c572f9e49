"""Security: reports escape model and user text, API keys never reach a file, YAML cannot run
code, and prompt paths in a persona cannot leave its folder unless the persona allows it.

The run behind the report and key checks is real: a tiny policy and the `openai` user talking
to a local scripted endpoint that answers with injection payloads and receives the key.
"""

from __future__ import annotations

import html
import json
import os
import re
import secrets
import textwrap
from html.parser import HTMLParser
from pathlib import Path

import pytest
from reliability_helpers import all_files, manifest, run_config, write_run_config
from scripted_server import ScriptedServer

from simbench.cli import main

KEY_ENV = "SIMBENCH_TEST_API_KEY"
SCRIPT = '<script>alert("xss-script")</script>'
ATTRIBUTE = '"><img src=x onerror=alert("xss-attr")>'
SINGLE = "' onmouseover='alert(1)' data-x='"
FENCE = "```\n<script>alert('xss-fence')</script>\n```"
PAYLOADS = (SCRIPT, ATTRIBUTE, SINGLE, FENCE)


def _succeed(args: list[str]) -> None:
    try:
        main(args)
    except SystemExit as exit_info:
        assert exit_info.code in (0, None)


def _fail_with(args: list[str], capsys) -> str:
    with pytest.raises(SystemExit) as exit_info:
        main(args)
    assert exit_info.value.code == 2
    err = capsys.readouterr().err.strip()
    # Loading a model may draw transformers' progress bar first; the error is the last line.
    assert "Traceback" not in err
    err = err.splitlines()[-1]
    assert err.startswith("error: ")
    return err


# ---------------------------------------------------------------------------- a payload run


@pytest.fixture(scope="module")
def payload_run(tmp_path_factory, tiny_model_dir):
    """A complete run whose follow-ups, responses, signal tokens and persona name are
    injection payloads, made with a secret API key in the environment; plus its report."""
    import torch

    from simbench.runner.run import execute

    root = tmp_path_factory.mktemp("payload-run")
    key = "sk-simbench-" + secrets.token_hex(16)
    persona = root / "persona.yaml"
    persona.write_text(textwrap.dedent(f"""\
        id: payload
        name: {json.dumps(SCRIPT)}
        background: {json.dumps("A tester. " + ATTRIBUTE)}
        interactions: 4
        schedule:
          - at: 0
            preferences: [concise]
        """), encoding="utf-8")
    replies = iter(PAYLOADS * 10)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    os.environ[KEY_ENV] = key
    try:
        # Two 500s exhaust the first follow-up's attempts: the run stops with a user error
        # (an error message in the manifest), then resumes to the end.
        with ScriptedServer(["500", "500"], reply=lambda body: next(replies)) as server:
            # concurrency 1: the batch's follow-ups go one by one, so both 500s hit the first.
            options = {"base_url": server.base_url, "model": "scripted", "api_key_env": KEY_ENV,
                       "max_attempts": 2, "backoff_base": 0.01, "concurrency": 1}
            config = run_config(write_run_config(root / "run.json", tiny_model_dir, learner="sdpo-token",
                                                 persona=str(persona), interactions=4, probe_every=2,
                                                 user="openai", user_options=options))
            run_dir = root / "run"
            assert execute(config, out=run_dir).status == "user_error"
            assert execute(config, out=run_dir, resume=True).status == "complete"
            headers = list(server.headers)
    finally:
        del os.environ[KEY_ENV]
        torch.set_num_threads(threads)
    _inject_policy_payloads(run_dir)
    _succeed(["report", str(run_dir), "--out", str(root / "report"), "--bootstrap", "20"])
    return {"root": root, "run": run_dir, "report": root / "report", "key": key, "headers": headers}


def _inject_policy_payloads(run_dir: Path) -> None:
    """Overwrite the policy's text in the logs with payloads (a random tiny model cannot be
    made to write them); reports are functions of the logs, so this is what they render."""
    for name, fields in (("interactions", ("response",)), ("probes", ("response", "prompt")),
                         ("signals", ("response",))):
        path = run_dir / f"{name}.jsonl"
        records = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
        for i, record in enumerate(records):
            for field in fields:
                record[field] = PAYLOADS[i % len(PAYLOADS)]
            if name == "signals":
                record["tokens"] = [ATTRIBUTE, SINGLE, SCRIPT][: len(record["advantages"])]
                record["advantages"] = record["advantages"][: len(record["tokens"])]
                record["follow_up"] = SCRIPT
        path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")


class _Elements(HTMLParser):
    """Every start tag and attribute of an HTML document."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[str] = []
        self.attributes: list[tuple[str, str]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.attributes += [(name, value or "") for name, value in attrs]


def test_html_report_escapes_every_payload_in_responses_follow_ups_tokens_and_names(payload_run):
    page = (payload_run["report"] / "report.html").read_text(encoding="utf-8")
    elements = _Elements()
    elements.feed(page)
    assert "script" not in elements.tags and "img" not in elements.tags
    assert not [name for name, _ in elements.attributes if name.startswith("on")]
    for payload in (SCRIPT, ATTRIBUTE):
        assert payload not in page
        assert html.escape(payload, quote=True) in page  # rendered, escaped, not dropped
    # Token titles are attributes: a quote in a token must not end them.
    titles = [value for name, value in elements.attributes if name == "title"]
    assert any(ATTRIBUTE in title for title in titles) and any(SINGLE in title for title in titles)


def test_markdown_report_keeps_payloads_inside_code_fences(payload_run):
    text = (payload_run["report"] / "report.md").read_text(encoding="utf-8")
    fence = None
    outside = []
    for line in text.splitlines():
        match = re.match(r"^(`{3,})", line)
        if fence is None and match:
            fence = match.group(1)
        elif fence is not None and line.startswith(fence) and line.strip("`") == "":
            fence = None
        elif fence is None:
            outside.append(line)
    assert any("xss-script" in line for line in text.splitlines())  # the text is there
    assert not [line for line in outside if "<script" in line or "<img" in line]


def test_api_key_is_sent_to_the_endpoint_but_never_written_to_run_or_report_files(payload_run):
    key = payload_run["key"]
    assert any(h.get("authorization") == f"Bearer {key}" for h in payload_run["headers"])
    state = manifest(payload_run["run"])
    assert state["config"]["user_options"]["api_key_env"] == KEY_ENV
    assert [s["status"] for s in state["sessions"]] == ["user_error", "complete"]
    files = all_files(payload_run["root"])
    assert any(p.suffix == ".safetensors" for p in files) and any(p.name == "report.html" for p in files)
    leaked = [str(p) for p in files if key.encode() in p.read_bytes()]
    assert leaked == []


def test_a_key_passed_as_a_user_option_is_refused_without_echoing_it(tmp_path, tiny_model_dir, capsys,
                                                                     monkeypatch, one_torch_thread):
    key = "sk-simbench-" + secrets.token_hex(16)
    monkeypatch.chdir(tmp_path)
    config = write_run_config(tmp_path / "run.json", tiny_model_dir, learner="frozen", user="openai",
                              user_options={"base_url": "http://127.0.0.1:9/v1", "model": "m", "api_key": key})
    err = _fail_with(["run", "--config", str(config), "--out", str(tmp_path / "run")], capsys)
    assert "api_key" in err and key not in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run.json"]


# ---------------------------------------------------------------------------- YAML


CODE_TAGS = (
    "!!python/object/apply:os.system ['touch {marker}']",
    "!!python/object/new:os.system ['touch {marker}']",
    "!!python/name:os.system",
    "!!python/module:os",
)


@pytest.mark.parametrize("tag", CODE_TAGS)
def test_python_tags_in_persona_and_config_files_are_rejected_without_running_anything(
    tag, tmp_path, capsys, monkeypatch
):
    monkeypatch.chdir(tmp_path)
    marker = tmp_path / "PWNED"
    value = tag.format(marker=marker)
    persona = tmp_path / "persona.yaml"
    persona.write_text(f"id: x\nname: {value}\nbackground: b\nschedule:\n  - at: 0\n"
                       "    preferences: [concise]\n", encoding="utf-8")
    err = _fail_with(["personas", "validate", str(persona)], capsys)
    assert str(persona) in err and "YAML error" in err
    config = tmp_path / "config.yaml"
    config.write_text(f"learner: {value}\n", encoding="utf-8")
    err = _fail_with(["run", "--config", str(config)], capsys)
    assert str(config) in err and "cannot parse" in err
    assert not marker.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["config.yaml", "persona.yaml"]


# ---------------------------------------------------------------------------- paths


def _persona_with_train(folder: Path, train: str, allow: bool = False) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "persona.yaml"
    path.write_text(textwrap.dedent(f"""\
        id: paths
        name: Paths
        background: Where do my prompts come from?
        allow_outside_paths: {str(allow).lower()}
        prompts:
          train: {json.dumps(train)}
        schedule:
          - at: 0
            preferences: [concise]
        """), encoding="utf-8")
    return path


def _pool(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text('{"id": "q1", "text": "How do tides work?"}\n', encoding="utf-8")
    return path


def test_prompt_paths_resolve_relative_to_the_persona_file_not_the_working_directory(
    tmp_path, capsys, monkeypatch
):
    _pool(tmp_path / "personas" / "pools" / "train.jsonl")
    persona = _persona_with_train(tmp_path / "personas", "pools/train.jsonl")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    _succeed(["personas", "validate", str(persona)])
    assert str(persona) in capsys.readouterr().out


@pytest.mark.parametrize("kind", ["parent", "absolute", "symlink", "home"])
def test_prompt_paths_cannot_escape_the_persona_folder(kind, tmp_path, capsys, monkeypatch):
    outside = _pool(tmp_path / "outside.jsonl")
    folder = tmp_path / "personas"
    folder.mkdir()
    if kind == "symlink":
        (folder / "link.jsonl").symlink_to(outside)
    monkeypatch.setenv("HOME", str(tmp_path))
    train = {"parent": "../outside.jsonl", "absolute": str(outside), "symlink": "link.jsonl",
             "home": "~/outside.jsonl"}[kind]
    persona = _persona_with_train(folder, train)
    err = _fail_with(["personas", "validate", str(persona)], capsys)
    assert f"{persona}: prompts.train" in err and "resolves outside the persona's folder" in err
    assert "allow_outside_paths" in err


def test_allow_outside_paths_lets_a_persona_read_prompts_elsewhere(tmp_path, capsys):
    _pool(tmp_path / "shared" / "train.jsonl")
    persona = _persona_with_train(tmp_path / "personas", "../shared/train.jsonl", allow=True)
    _succeed(["personas", "validate", str(persona)])
    assert str(persona) in capsys.readouterr().out


# ---------------------------------------------------------------------------- echoed keys


def test_a_key_the_endpoint_echoes_in_its_reply_never_reaches_a_file_or_the_learner(
    tmp_path, tiny_model_dir, monkeypatch, one_torch_thread
):
    """A hostile or buggy endpoint repeats the key in the follow-up text: it is scrubbed at
    the source, so the logs, the in-context learner's memory (checkpointed) and the manifest
    never hold it."""
    from simbench.runner.run import execute

    key = "sk-simbench-" + secrets.token_hex(16)
    monkeypatch.setenv(KEY_ENV, key)
    with ScriptedServer([], reply=lambda body: f"Shorter, please. My key is {key}, by the way.") as server:
        options = {"base_url": server.base_url, "model": "scripted", "api_key_env": KEY_ENV, "max_tokens": 32}
        config = run_config(write_run_config(tmp_path / "run.json", tiny_model_dir, learner="in-context-memory",
                                             interactions=4, probe_every=2, user="openai", user_options=options))
        assert execute(config, out=tmp_path / "run").status == "complete"
    files = all_files(tmp_path / "run")
    assert any(p.name == "memory.json" for p in files)
    assert [str(p) for p in files if key.encode() in p.read_bytes()] == []
    follow_ups = [json.loads(line)["follow_up"] for line in
                  (tmp_path / "run" / "interactions.jsonl").read_text(encoding="utf-8").splitlines()]
    assert follow_ups and all("My key is ***, by the way." in text for text in follow_ups)
    # max_tokens is a setting, not a secret: it stays in the manifest (and the resume check).
    assert manifest(tmp_path / "run")["config"]["user_options"]["max_tokens"] == 32


def test_every_record_written_is_scrubbed_of_the_key_wherever_it_sits(tmp_path):
    from simbench.logs.io import JsonlWriter, write_json
    from simbench.redaction import redact, scrubber

    key = "sk-" + secrets.token_hex(12)
    scrub = scrubber([key, "abc"])
    writer = JsonlWriter(tmp_path / "log.jsonl", scrub)
    writer.write({"text": f"before {key} after", key: [{"deep": key}], "short": "abc", "word": "abcdef"})
    writer.close()
    write_json(tmp_path / "m.json", scrub({"message": f"HTTP 401: bad key {key}"}))
    for name in ("log.jsonl", "m.json"):
        assert key not in (tmp_path / name).read_text()
    record = json.loads((tmp_path / "log.jsonl").read_text())
    # A short secret is only replaced where a whole string equals it: "abcdef" stays text.
    assert record == {"text": "before *** after", "***": [{"deep": "***"}], "short": "***", "word": "abcdef"}
    assert redact({"api_key": "x", "headers": {}, "max_tokens": 5, "api_key_env": "K"}) == \
        {"max_tokens": 5, "api_key_env": "K"}
