"""Crash safety of the run layer: SIGKILL a real `simbench run` at seeded random points,
`--resume` it, and require the logs and metrics of an uninterrupted run with the same seed.

Also unit-tests the JSONL primitives the guarantee rests on (torn last line, truncate).
"""

from __future__ import annotations

import json
import random
import signal
import subprocess
import time
from pathlib import Path

import pytest
from reliability_helpers import (
    LOGS,
    TINY_RUN,
    cli_env,
    manifest,
    run_config,
    run_records,
    simbench_command,
    strict_json,
    write_run_config,
)

from simbench.errors import InputError
from simbench.logs.io import JsonlWriter, read_jsonl, truncate

KILLS = 5
TRIAL_TIMEOUT_S = 120.0
POLL_S = 0.003


def _log_paths(run_dir: Path) -> list[Path]:
    return [run_dir / f"{name}.jsonl" for name in LOGS]


def _stamps(run_dir: Path) -> list[int | None]:
    return [p.stat().st_mtime_ns if p.exists() else None for p in _log_paths(run_dir)]


def _complete_lines(run_dir: Path) -> int:
    return sum(p.read_bytes().count(b"\n") for p in _log_paths(run_dir) if p.exists())


def _checkpointed_lines(run_dir: Path) -> int:
    """Log lines covered by the latest checkpoint: where a resume starts writing again."""
    latest = run_dir / "checkpoints" / "LATEST"
    if not latest.exists():
        return 0
    state = json.loads((run_dir / "checkpoints" / latest.read_text().strip() / "state.json").read_text())
    return sum(
        (run_dir / f"{name}.jsonl").read_bytes()[:size].count(b"\n")
        for name, size in state["log_sizes"].items()
    )


def _interrupt_at(command: list[str], run_dir: Path, cwd: Path, threshold: int, delay: float,
                  signum: int) -> int:
    """Start `command`; once it has written (not merely inherited) `threshold` log lines, wait
    `delay` s and send `signum`. Returns the exit code (-9 for a SIGKILL that landed)."""
    before = _stamps(run_dir)
    process = subprocess.Popen(command, cwd=cwd, env=cli_env(), stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + TRIAL_TIMEOUT_S
    try:
        while process.poll() is None and time.monotonic() < deadline:
            # Resume first cuts the logs back to the checkpoint: count lines only once this
            # process has touched a log, so stale lines from the last kill do not count.
            if _stamps(run_dir) != before and _complete_lines(run_dir) >= threshold:
                time.sleep(delay)
                process.send_signal(signum)
                break
            time.sleep(POLL_S)
        _, stderr = process.communicate(timeout=TRIAL_TIMEOUT_S)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert "Traceback" not in (stderr or ""), stderr
    return process.returncode


def _assert_valid_after_kill(run_dir: Path) -> None:
    """Every newline-terminated line of every log is standard JSON, and the readers return
    exactly those records: at most the unterminated tail of a log is torn, and it is dropped."""
    for path in _log_paths(run_dir):
        if not path.exists():
            continue
        *complete, tail = path.read_bytes().split(b"\n")
        records = [strict_json(raw.decode("utf-8")) for raw in complete]
        if tail:
            with pytest.raises(ValueError):
                json.loads(tail)
        assert read_jsonl(path) == records


@pytest.mark.timeout(600)
def test_sigkilled_runs_resume_to_the_logs_and_metrics_of_an_uninterrupted_run(
    tmp_path, tiny_model_dir, one_torch_thread
):
    from simbench.metrics import load_run_logs, summarise_run
    from simbench.runner.run import execute

    config_file = write_run_config(tmp_path / "run.json", tiny_model_dir, learner="sdpo-token", seed=11)
    baseline = execute(run_config(config_file), out=tmp_path / "baseline")
    assert baseline.status == "complete"
    expected = run_records(tmp_path / "baseline")
    total = sum(len(v) for v in expected.values())
    last_probe_drift = sum(1 for r in expected["drift"] if r["t"] == expected["drift"][-1]["t"])

    run_dir = tmp_path / "crashed"
    command = simbench_command("run", "--config", str(config_file), "--out", str(run_dir), "--quiet")
    rng = random.Random(20261126)
    kills, ahead, interrupted, codes = 0, 0, False, []
    resume: list[str] = []
    while kills < KILLS or not interrupted:
        done = _checkpointed_lines(run_dir)
        # One Ctrl-C early on (it lets the batch finish, so it needs batches left), then kills.
        signum = signal.SIGKILL if interrupted else signal.SIGINT
        # Leave records to write so the signal lands inside the episode, not after it (the last
        # probe's drift records are written in one burst just before the run ends).
        left = 20 if signum == signal.SIGINT else 4 + last_probe_drift
        threshold = rng.randint(done + 1, max(done + 1, total - left))
        code = _interrupt_at(command + resume, run_dir, tmp_path, threshold, rng.uniform(0, 0.05), signum)
        codes.append(code)
        resume = ["--resume"]
        if signum == signal.SIGINT:
            # Ctrl-C: the batch in progress finishes, a checkpoint is written, exit 130.
            assert code == 130, codes
            assert manifest(run_dir)["status"] == "interrupted"
            interrupted = True
        else:
            assert code == -signal.SIGKILL, f"the run ended before it was killed: exit codes {codes}"
            kills += 1
            # Records past the checkpoint are what a resume must cut off and replay.
            ahead += _complete_lines(run_dir) > _checkpointed_lines(run_dir)
        _assert_valid_after_kill(run_dir)

    assert ahead >= 2, "too few kills landed between checkpoints to exercise the replay"
    finished = subprocess.run(command + resume, cwd=tmp_path, env=cli_env(), capture_output=True,
                              text=True, timeout=TRIAL_TIMEOUT_S)
    assert finished.returncode == 0, finished.stderr

    records = run_records(run_dir)
    interactions = TINY_RUN["interactions"]
    assert [r["t"] for r in records["interactions"]] == list(range(interactions))
    assert [r["update"] for r in records["updates"]] == list(range(interactions // TINY_RUN["batch_size"]))
    probe_keys = [(r["t"], r["probe_id"]) for r in records["probes"]]
    assert len(probe_keys) == len(set(probe_keys))
    assert records == expected  # nothing lost, nothing duplicated, the same content
    state = manifest(run_dir)
    assert state["status"] == "complete" and state["position"] == interactions
    assert [s["status"] for s in state["sessions"]] == ["interrupted", "complete"]
    # Wall-clock seconds (cost) differ between any two runs.
    summaries = [summarise_run(load_run_logs(d), bootstrap=50).model_dump(exclude={"cost"})
                 for d in (run_dir, tmp_path / "baseline")]
    assert summaries[0] == summaries[1]


def test_iter_jsonl_drops_a_torn_last_line_and_keeps_every_whole_record(tmp_path):
    path = tmp_path / "log.jsonl"
    writer = JsonlWriter(path)
    for t in range(3):
        writer.write({"t": t, "text": "é"})
    writer.close()
    whole = path.read_bytes()
    with open(path, "ab") as handle:
        handle.write('{"t": 3, "text": "\u00e9'.encode()[:-1])  # cut inside a UTF-8 character
    assert read_jsonl(path) == [{"t": 0, "text": "é"}, {"t": 1, "text": "é"}, {"t": 2, "text": "é"}]
    truncate(path, len(whole))
    assert path.read_bytes() == whole


def test_iter_jsonl_refuses_a_broken_line_in_the_middle(tmp_path):
    path = tmp_path / "log.jsonl"
    path.write_text('{"t": 0}\n{"t": 1\n{"t": 2}\n', encoding="utf-8")
    with pytest.raises(InputError, match=r"log.jsonl: line 2: malformed JSON"):
        read_jsonl(path)


def test_a_broken_last_line_that_ends_in_a_newline_is_corruption_not_a_torn_write(tmp_path):
    """The writer ends every record with a newline in the same write, so a kill can only
    leave an unterminated tail; a broken line WITH its newline was written broken."""
    path = tmp_path / "log.jsonl"
    path.write_text('{"t": 0}\n{"t": 1\n', encoding="utf-8")
    with pytest.raises(InputError, match=r"log.jsonl: line 2: malformed JSON"):
        read_jsonl(path)
    path.write_text('{"t": 0}\n{"t": 1', encoding="utf-8")
    assert read_jsonl(path) == [{"t": 0}]


def test_truncate_never_grows_a_log_and_ignores_a_missing_one(tmp_path):
    path = tmp_path / "log.jsonl"
    path.write_text('{"t": 0}\n', encoding="utf-8")
    truncate(path, 100)
    assert path.read_text() == '{"t": 0}\n'
    truncate(tmp_path / "absent.jsonl", 0)
    assert not (tmp_path / "absent.jsonl").exists()


def test_jsonl_writer_writes_non_finite_numbers_as_null_so_logs_stay_standard_json(tmp_path):
    path = tmp_path / "log.jsonl"
    writer = JsonlWriter(path)
    writer.write({"advantages": [0.5, float("nan"), float("-inf")], "loss": float("inf")})
    writer.close()
    line = path.read_text(encoding="utf-8")
    assert strict_json(line) == {"advantages": [0.5, None, None], "loss": None}
