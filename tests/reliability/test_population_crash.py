"""Crash safety of a population: SIGKILL a real `simbench sweep --executor batched` between
checkpoints, run the same command again, and require every member's logs to equal those of an
uninterrupted population of the same cells (fp32, as the CLI loads the model). About 20 s:
a SIGKILL needs real processes (two CLI starts); the reference population runs in process."""

from __future__ import annotations

import json
import signal
import subprocess
import time
from pathlib import Path

import pytest
from reliability_helpers import LOGS, cli_env, simbench_command

PERSONA = """\
id: short
name: Short
background: A tester who wants short answers.
interactions: 6
schedule:
  - at: 0
    preferences: [concise]
"""
MEMBERS = ("short--sdpo-token--s0", "short--sdpo-logit--s0")
TIMEOUT_S = 240.0


SETTINGS = {"batch_size": 2, "probe_every": 2, "probe_prompts": 1, "general_questions": 1, "max_new_tokens": 6}


def _persona(tmp_path: Path) -> Path:
    persona = tmp_path / "short.yaml"
    persona.write_text(PERSONA)
    return persona


def _sweep(tmp_path: Path, model_dir: Path, out: Path) -> list[str]:
    flags = [f"--{key.replace('_', '-')}={value}" for key, value in SETTINGS.items()]
    return simbench_command("sweep", "--personas", str(_persona(tmp_path)), "--learners", "sdpo-token",
                            "sdpo-logit", "--out", str(out), "--model", str(model_dir), "--executor", "batched",
                            "--quiet", *flags)


def _latest(run_dir: Path) -> int:
    latest = run_dir / "checkpoints" / "LATEST"
    if not latest.is_file():
        return -1
    name = latest.read_text().strip()
    return int(name.rsplit("-", 1)[1]) if name else -1


def _logs(run_dir: Path) -> dict[str, list[dict]]:
    """Every log with wall-clock fields dropped (they differ between any two runs)."""
    def strip(value):
        if isinstance(value, dict):
            return {k: strip(v) for k, v in value.items() if k != "seconds"}
        return [strip(v) for v in value] if isinstance(value, list) else value

    out = {}
    for name in LOGS:
        path = run_dir / f"{name}.jsonl"
        out[name] = [strip(json.loads(line)) for line in path.read_text().splitlines()] if path.exists() else []
    return out


@pytest.mark.timeout(600)
def test_a_sigkilled_population_resumes_to_the_logs_of_an_uninterrupted_one(tmp_path, tiny_model_dir,
                                                                            one_torch_thread):
    from simbench.runner.executors.batched import BatchedExecutor
    from simbench.runner.sweep import run_sweep

    reference = tmp_path / "reference"
    settings = {**SETTINGS, "model": str(tiny_model_dir)}
    result = run_sweep([str(_persona(tmp_path))], ["sdpo-token", "sdpo-logit"], [0], reference, settings,
                       executor=BatchedExecutor())
    assert result.ok

    out = tmp_path / "crashed"
    command = _sweep(tmp_path, tiny_model_dir, out)
    process = subprocess.Popen(command, cwd=tmp_path, env=cli_env(), stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + TIMEOUT_S
    try:
        # Past the first checkpoint after t=0, before the end: mid-episode for every member.
        while process.poll() is None and time.monotonic() < deadline:
            if max(_latest(out / name) for name in MEMBERS) >= 2:
                process.send_signal(signal.SIGKILL)
                break
            time.sleep(0.003)
        _, stderr = process.communicate(timeout=TIMEOUT_S)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == -signal.SIGKILL, f"the sweep ended before it was killed: {stderr}"
    assert all(json.loads((out / name / "manifest.json").read_text())["status"] == "running" for name in MEMBERS)

    resumed = subprocess.run(command, cwd=tmp_path, env=cli_env(), capture_output=True, text=True,
                             timeout=TIMEOUT_S, check=False)
    assert resumed.returncode == 0, resumed.stderr
    for name in MEMBERS:
        assert json.loads((out / name / "manifest.json").read_text())["status"] == "complete"
        assert _logs(out / name) == _logs(reference / name), name
