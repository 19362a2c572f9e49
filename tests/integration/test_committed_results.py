"""The committed reference results (results/cpu-reference) are what their command and logs say.

- every run of the stated grid is there, complete, made by one commit with the stated settings
  and the committed persona files;
- the sweep's recorded command is the one in reproduce.sh;
- leaderboard.json is exactly what `simbench leaderboard` computes from the committed logs
  (so it was not edited by hand), and `simbench report` works on a committed run;
- (slow, ~2.5 min) one SDPO run of the grid, rerun now with the stated settings, writes the
  same records as the committed one, timings aside.

The browser rendering of both pages is checked in test_report_browser.py.
"""

from __future__ import annotations

import hashlib
import json
import shlex
import shutil
from pathlib import Path

import pytest
from cli_inprocess import run_main

from simbench.reporting.leaderboard import build_leaderboard

ROOT = Path(__file__).resolve().parents[2]
RESULTS = Path("results") / "cpu-reference"
PERSONAS = ("concise-32", "concise-then-detailed-48", "complementary-48")
LEARNERS = ("frozen", "in-context-oracle", "sdpo-token", "sdpo-logit", "sdpo-unrelated")
SEEDS = (0, 1)
SETTINGS = {"batch_size": 4, "probe_every": 8, "probe_prompts": 12, "general_questions": 4,
            "max_new_tokens": 64, "model": "smollm2-135m", "user": "rules", "backend": "hf"}
# What the leaderboard records about when and where it was made, not what it measured.
VOLATILE = ("created",)


@pytest.fixture
def in_repo(monkeypatch):
    monkeypatch.chdir(ROOT)


def manifests() -> dict[str, dict]:
    return {p.parent.name: json.loads(p.read_text()) for p in sorted((ROOT / RESULTS).glob("*/manifest.json"))}


def test_every_run_of_the_grid_is_complete_with_the_stated_settings():
    found = manifests()
    expected = {f"{p}--{l}--s{s}" for p in PERSONAS for l in LEARNERS for s in SEEDS}
    assert set(found) == expected
    assert {m["status"] for m in found.values()} == {"complete"}
    assert len({m["git_commit"] for m in found.values()}) == 1
    for name, manifest in found.items():
        config = manifest["config"]
        assert {k: config[k] for k in SETTINGS} == SETTINGS, name
        persona_file = ROOT / manifest["persona"]["file"]
        assert hashlib.sha256(persona_file.read_bytes()).hexdigest() == manifest["persona"]["file_sha256"], name


def test_the_recorded_sweep_command_is_the_one_in_reproduce_sh():
    script = (ROOT / RESULTS / "reproduce.sh").read_text().replace("\\\n", " ")
    line = next(line for line in script.splitlines() if "simbench sweep" in line)
    stated = shlex.split(line.replace("$OUT", str(RESULTS)))
    stated = stated[stated.index("simbench"):]
    recorded = shlex.split(json.loads((ROOT / RESULTS / "sweep.json").read_text())["command"])
    assert recorded == stated


def test_committed_leaderboard_is_what_the_logs_give(in_repo):
    committed = json.loads((RESULTS / "leaderboard.json").read_text())
    bootstrap = committed.get("bootstrap", 200)
    fresh = json.loads(json.dumps(build_leaderboard(RESULTS, bootstrap=bootstrap).dump(), allow_nan=False))
    for key in VOLATILE:
        committed.pop(key), fresh.pop(key)
    assert fresh.pop("schema_version") == committed.pop("schema_version", 1)  # older boards: version 1
    assert fresh == committed
    assert {c["scenario"] for c in committed["columns"]} == {"single", "flip", "complementary"}


def test_report_and_leaderboard_commands_work_on_the_committed_results(tmp_path, capsys, in_repo):
    run = RESULTS / "concise-then-detailed-48--sdpo-token--s0"
    code, _, err = run_main(capsys, "report", run, "--out", tmp_path / "report", "--bootstrap", "50")
    assert code == 0, err
    text = (tmp_path / "report" / "report.md").read_text()
    assert "Unlearning" in text and "unreachable_at_token_cap" in text
    copy = tmp_path / "results"
    shutil.copytree(RESULTS, copy, ignore=shutil.ignore_patterns("checkpoints", "leaderboard.*"))
    code, _, err = run_main(capsys, "leaderboard", copy, "--bootstrap", "20")
    assert code == 0, err
    board = (copy / "leaderboard.md").read_text()
    for learner in LEARNERS:
        assert f"| {learner} |" in board


# Float statistics (losses, advantages, grad norms) are summed in a different order by torch's
# CPU kernels on another instruction set (AVX2 vs AVX-512): CI measured relative differences
# up to ~3e-5 on the same run, and signals.jsonl rounds per-token advantages to 1e-5, so a
# value near 0 can differ by a rounding step or two. Text, token counts and every other value
# must match exactly.
FLOAT_REL, FLOAT_ABS = 1e-3, 1e-4


def _without_timings(value):
    if isinstance(value, dict):
        return {k: _without_timings(v) for k, v in value.items() if k != "seconds"}
    if isinstance(value, list):
        return [_without_timings(v) for v in value]
    return value


def _floats_approx(value):
    """`value` with every float compared to FLOAT_REL; everything else compares exactly."""
    if isinstance(value, dict):
        return {k: _floats_approx(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_floats_approx(v) for v in value]
    if isinstance(value, float):
        return pytest.approx(value, rel=FLOAT_REL, abs=FLOAT_ABS)
    return value


@pytest.mark.slow
def test_rerunning_a_committed_run_with_the_stated_settings_gives_the_same_logs(tmp_path, capsys, in_repo):
    """One cell of reproduce.sh's grid (an SDPO run, ~2 min) rerun now: every record except
    wall-clock timings must match the committed one: answers, follow-ups and probes exactly,
    losses and other float statistics to FLOAT_REL / FLOAT_ABS."""
    name = "concise-32--sdpo-token--s1"
    code, _, err = run_main(
        capsys, "sweep", "--personas", RESULTS / "personas" / "concise-32.yaml", "--learners", "sdpo-token",
        "--seeds", "1", "--batch-size", "4", "--probe-every", "8", "--probe-prompts", "12",
        "--general-questions", "4", "--max-new-tokens", "64", "--out", tmp_path, "--quiet")
    assert code == 0, err
    for log in ("interactions", "updates", "probes", "general", "signals"):
        fresh = (tmp_path / name / f"{log}.jsonl").read_text().splitlines()
        committed = (RESULTS / name / f"{log}.jsonl").read_text().splitlines()
        assert [_without_timings(json.loads(x)) for x in fresh] == \
            [_floats_approx(_without_timings(json.loads(x))) for x in committed], log
