"""`simbench run` in-process: flag handling, one-line error exits, and a whole CLI run.

Bad flags must exit 2 with one line on stderr and create no run folder. The full runs swap
only the model loader for a tiny random Llama (a subprocess with SmolLM2 would take minutes):
flags -> RunConfig -> execute -> progress display -> end-of-run table are all real.
"""

from __future__ import annotations

import functools
import json
import os
import signal

import pytest
from cli_inprocess import run_main
from tinymodels import make_tiny_llama, single_torch_thread

import simbench.api as api_module
import simbench.runner.run as run_module
from simbench.config import build_config
from simbench.runner.episode import InteractionDone

PERSONA = """\
id: two-phase
name: Two phases
background: A tester.
interactions: 4
schedule:
  - at: 0
    preferences: [concise]
  - at: 2
    preferences: [no-emojis]
"""
TINY_FLAGS = ["--interactions", "4", "--batch-size", "2", "--probe-every", "2",
              "--probe-prompts", "1", "--max-new-tokens", "4", "--quiet"]


@pytest.fixture(scope="module", autouse=True)
def one_torch_thread():
    """Two intra-op threads on tiny ops made runs ~20x slower on the loaded 2-core machine."""
    with single_torch_thread():
        yield


@pytest.fixture
def persona(tmp_path):
    path = tmp_path / "two-phase.yaml"
    path.write_text(PERSONA)
    return path


@pytest.mark.parametrize(
    "flags, expected",
    [
        (["--probe-every", "0"], "error: --probe-every: "),
        (["--batch-size", "2", "--probe-every", "3"], "error: --probe-every: must be a multiple of batch_size=2"),
        (["--interactions", "-1"], "error: --interactions: "),
        (["--turns", "0"], "error: --turns: "),
        (["--learner", "sdpo-tokn"], "error: --learner: unknown learner 'sdpo-tokn' (did you mean 'sdpo-token'?"),
        (["--user", "rule"], "error: --user: unknown user simulator 'rule' (did you mean 'rules'?"),
        (["--persona", "no-such-persona"], "error: --persona 'no-such-persona': "),
        (["--probe-prompts", "100000"], "error: --probe-prompts: 100000 requested"),
        (["--batch-size", "abc"], "error: Invalid value for '--batch-size'"),
        (["--learner-option", "lr"], "error: --learner-option: expected KEY=VALUE"),
        (["--config", "absent.yaml"], "error: --config: file not found"),
        (["--no-such-flag"], "error: No such option: --no-such-flag"),
        (["--batch-size", "2", "--checkpoint-every", "3"], "error: --checkpoint-every: must be a multiple"),
        (["--general-questions", "-1"], "error: --general-questions: "),
    ],
)
def test_bad_flag_exits_2_with_one_line_and_no_run_folder(capsys, tmp_path, monkeypatch, flags, expected):
    monkeypatch.chdir(tmp_path)  # relative paths (and the default runs/ folder) land here
    out = tmp_path / "run"
    code, stdout, stderr = run_main(capsys, "run", *flags, "--out", out)
    assert code == 2
    assert stderr.startswith(expected) and stderr.count("\n") == 1, stderr
    assert not out.exists() and not (tmp_path / "runs").exists()


def existing_run(folder, config):
    """A run folder whose manifest records `config` (what `prepare` reads)."""
    from simbench.logs.io import write_json
    from simbench.runner.build import resolve_inputs
    from simbench.runner.provenance import manifest_for

    folder.mkdir()
    write_json(folder / "manifest.json", manifest_for(resolve_inputs(config)).to_json())
    return (folder / "manifest.json").read_bytes()


def test_resume_with_changed_flags_exits_2_naming_the_field(capsys, tmp_path, persona):
    out = tmp_path / "run"
    before = existing_run(out, build_config({"persona": str(persona), "seed": 1}))
    code, _, stderr = run_main(capsys, "run", "--persona", persona, "--seed", "0", "--resume", "--out", out)
    assert code == 2 and stderr.count("\n") == 1
    assert stderr.startswith("error: --resume: config differs") and "seed: 1 -> 0" in stderr
    assert (out / "manifest.json").read_bytes() == before and sorted(out.iterdir()) == [out / "manifest.json"]


def test_out_holding_a_run_exits_2_without_resume(capsys, tmp_path, persona):
    out = tmp_path / "run"
    existing_run(out, build_config({"persona": str(persona)}))
    code, _, stderr = run_main(capsys, "run", "--persona", persona, "--out", out)
    assert code == 2 and stderr.startswith("error: --out: ") and "--resume" in stderr


def test_config_file_supplies_defaults_that_flags_override(capsys, tmp_path, persona, monkeypatch):
    config_file = tmp_path / "run.yaml"
    config_file.write_text(
        f"persona: {persona}\nlearner: frozen\nseed: 3\nbatch_size: 4\nprobe_every: 8\n"
        "learner_options:\n  memory_size: 2\n  lr: 0.01\n"
    )
    seen = {}

    def fake_execute(config, out=None, resume=False, on_event=None, parts_factory=None):
        seen["config"] = config
        return run_module.RunResult(tmp_path / "nothing", "complete", 0)

    monkeypatch.setattr(api_module, "execute", fake_execute)
    code, _, _ = run_main(capsys, "run", "--config", config_file, "--seed", "7", "--learner", "in-context-memory",
                     "--learner-option", "memory_size=5", "--checkpoint-every", "16",
                     "--general-questions", "2", "--quiet")
    assert code == 0
    config = seen["config"]
    assert (config.learner, config.seed, config.batch_size, config.probe_every) == ("in-context-memory", 7, 4, 8)
    assert (config.checkpoint_every, config.general_questions) == (16, 2)
    assert config.learner_options == {"memory_size": 5, "lr": 0.01}


@pytest.fixture
def tiny_execute(monkeypatch, smol_tokenizer):
    """`execute` with the real loop whose model loader returns a tiny random Llama.

    Setting `.interrupt_at = t` presses Ctrl-C (SIGINT to this process) once, when the
    interaction t is done.
    """
    from simbench.runner.parts import build_parts

    real = run_module.execute
    load = lambda name, device: (make_tiny_llama(smol_tokenizer), smol_tokenizer)  # noqa: E731

    def execute(config, on_event=None, **kwargs):
        def watch(event, context):
            if on_event:
                on_event(event, context)
            if isinstance(event, InteractionDone) and event.record.t == execute.interrupt_at:
                execute.interrupt_at = None
                os.kill(os.getpid(), signal.SIGINT)

        return real(config, on_event=watch, parts_factory=functools.partial(build_parts, load=load), **kwargs)

    execute.interrupt_at = None
    monkeypatch.setattr(api_module, "execute", execute)
    return execute


def test_cli_run_writes_a_complete_folder_and_prints_the_table(capsys, tmp_path, persona, tiny_execute):
    out = tmp_path / "run"
    flags = [f for f in TINY_FLAGS if f != "--quiet"]  # the progress display must work too
    code, _, stderr = run_main(capsys, "run", "--persona", persona, "--learner", "sdpo-token", *flags,
                          "--learner-option", "lr=0.001", "--seed", "5", "--out", out)
    assert code == 0, stderr
    assert "adherence per preference" in stderr and "complete" in stderr
    assert "concise" in stderr and "no-emojis" in stderr and "phase 1 last probe (t=2)" in stderr
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["status"] == "complete" and manifest["seed"] == 5
    assert manifest["config"]["learner_options"] == {"lr": 0.001}
    lines = (out / "interactions.jsonl").read_text().splitlines()
    assert len(lines) == 4


def test_ctrl_c_exits_130_and_resume_completes(capsys, tmp_path, persona, tiny_execute):
    out = tmp_path / "run"
    args = ["run", "--persona", persona, "--learner", "in-context-memory", *TINY_FLAGS, "--out", out]
    tiny_execute.interrupt_at = 0
    code, _, stderr = run_main(capsys, *args)
    assert code == 130 and "interrupted" in stderr and "--resume" in stderr
    assert json.loads((out / "manifest.json").read_text())["status"] == "interrupted"
    code, _, stderr = run_main(capsys, *args, "--resume")
    assert code == 0, stderr
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["status"] == "complete"
    assert [s["status"] for s in manifest["sessions"]] == ["interrupted", "complete"]


def test_help_shows_the_defaults(capsys):
    code, out, _ = run_main(capsys, "run", "--help")
    assert code == 0
    text = " ".join(out.replace("│", " ").split())
    assert "(default: 96)" in text and "(default: sdpo-token)" in text


def test_vllm_backend_without_vllm_is_one_line_before_anything_loads_or_is_written(capsys, tmp_path, persona,
                                                                                  monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "vllm", None)  # this machine has no vllm; make sure of it
    out = tmp_path / "run"
    code, _, stderr = run_main(capsys, "run", "--persona", persona, "--backend", "vllm", "--out", out, "--quiet")
    assert code == 2 and stderr.count("\n") == 1
    assert stderr.startswith("error: --backend vllm: vllm cannot be imported") and "pip install" in stderr
    assert not out.exists()
