"""One writer per folder: a second `run` (or `--resume`) on a folder a live run holds, and a
second sweep on a results folder a live sweep holds, are refused with one line and exit 2
before they load anything; the first writer finishes untouched. A lock left by a killed
process is stale and taken over.

The first writer is a real `python -m simbench` process, paused with SIGSTOP while it holds
its lock, so the second writer always meets it mid-run (no timing luck on a shared CPU).
"""

from __future__ import annotations

import errno
import json
import os
import signal
import socket
import subprocess
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import pytest
from reliability_helpers import cli_env, manifest, simbench_command, write_run_config

from simbench.cli import main
from simbench.runner.lock import LOCK_FILE, FolderLock

pytestmark = pytest.mark.timeout(600)


def _run_main(capsys, *args: str) -> tuple[int, str]:
    try:
        main(list(args))
        code = 0
    except SystemExit as exc:
        code = exc.code or 0
    return code, capsys.readouterr().err


@contextmanager
def paused_writer(command: list[str], lock_file: Path, cwd: Path) -> Iterator[subprocess.Popen]:
    """Start `command`, wait until it holds `lock_file`, SIGSTOP it; resume it on exit."""
    process = subprocess.Popen(command, cwd=cwd, env=cli_env(), stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and process.poll() is None:
            try:
                if json.loads(lock_file.read_text() or "{}").get("pid") == process.pid:
                    break
            except (OSError, ValueError):
                pass
            time.sleep(0.01)
        assert process.poll() is None, process.communicate()[1]
        process.send_signal(signal.SIGSTOP)
        yield process
    finally:
        process.send_signal(signal.SIGCONT)
        if process.poll() is None and process.returncode is None:
            try:
                process.wait(timeout=300)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _folder_state(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_a_second_run_or_resume_on_a_folder_in_use_is_refused_and_the_first_run_finishes(
    tmp_path, tiny_model_dir, capsys, one_torch_thread
):
    from simbench.metrics import load_run_logs

    config = write_run_config(tmp_path / "run.json", tiny_model_dir, learner="sdpo-token")
    run_dir = tmp_path / "run"
    command = simbench_command("run", "--config", str(config), "--out", str(run_dir), "--quiet")
    with paused_writer(command, run_dir / LOCK_FILE, tmp_path) as first:
        before = _folder_state(run_dir)
        for extra in ([], ["--resume"]):
            code, err = _run_main(capsys, "run", "--config", str(config), "--out", str(run_dir), "--quiet", *extra)
            assert code == 2 and err.count("\n") == 1 and "Traceback" not in err, err
            assert err.startswith(f"error: --out: run folder {run_dir} is in use by pid {first.pid} "
                                  f"on host {socket.gethostname()}"), err
        assert _folder_state(run_dir) == before  # the refused writers touched nothing
    assert first.returncode == 0, first.stderr.read()
    assert manifest(run_dir)["status"] == "complete"
    logs = load_run_logs(run_dir)  # the folder invariants hold: one writer wrote it
    assert [r.t for r in logs.interactions] == list(range(16))
    assert not (run_dir / LOCK_FILE).exists()


def test_a_lock_left_by_a_killed_run_is_stale_and_resume_takes_it_over(tmp_path, tiny_model_dir, capsys,
                                                                        one_torch_thread):
    config = write_run_config(tmp_path / "run.json", tiny_model_dir, learner="frozen")
    run_dir = tmp_path / "run"
    command = simbench_command("run", "--config", str(config), "--out", str(run_dir), "--quiet")
    with paused_writer(command, run_dir / LOCK_FILE, tmp_path) as first:
        first.send_signal(signal.SIGKILL)
        first.wait()
    owner = json.loads((run_dir / LOCK_FILE).read_text())
    assert owner["pid"] == first.pid  # the dead owner's record is still there
    if not (run_dir / "manifest.json").exists():  # killed before it wrote anything but the lock
        code, err = _run_main(capsys, "run", "--config", str(config), "--out", str(run_dir), "--quiet")
    else:
        code, err = _run_main(capsys, "run", "--config", str(config), "--out", str(run_dir), "--resume", "--quiet")
    assert code == 0, err
    assert manifest(run_dir)["status"] == "complete" and not (run_dir / LOCK_FILE).exists()


def test_a_second_sweep_on_a_results_folder_in_use_is_refused_and_the_first_finishes(
    tmp_path, tiny_model_dir, capsys, one_torch_thread
):
    write_run_config(tmp_path / "settings.json", tiny_model_dir)
    results = tmp_path / "results"
    args = ["sweep", "--personas", "concise", "--learners", "frozen", "--seeds", "0",
            "--config", str(tmp_path / "settings.json"), "--out", str(results), "--quiet"]
    with paused_writer(simbench_command(*args), results / LOCK_FILE, tmp_path) as first:
        before = _folder_state(results)
        code, err = _run_main(capsys, *args)
        assert code == 2 and err.count("\n") == 1, err
        assert err.startswith(f"error: --out: results folder {results} is in use by pid {first.pid}"), err
        assert _folder_state(results) == before  # sweep.json untouched
    assert first.returncode == 0, first.stderr.read()
    sweep = json.loads((results / "sweep.json").read_text())
    assert [run["status"] for run in sweep["runs"].values()] == ["complete"]


def test_a_sweep_leaves_a_cell_a_run_holds_and_runs_the_others(tmp_path, tiny_model_dir, capsys, one_torch_thread):
    write_run_config(tmp_path / "settings.json", tiny_model_dir, interactions=4, probe_every=4)
    results = tmp_path / "results"
    args = ["sweep", "--personas", "concise", "--learners", "frozen", "--seeds", "0", "1",
            "--config", str(tmp_path / "settings.json"), "--out", str(results), "--quiet"]
    with FolderLock(results / "concise--frozen--s0"):
        code, _ = _run_main(capsys, *args)
    assert code == 3  # one cell failed, the sweep went on
    runs = json.loads((results / "sweep.json").read_text())["runs"]
    assert runs["concise--frozen--s1"]["status"] == "complete"
    assert runs["concise--frozen--s0"]["status"] == "failed" and "in use" in runs["concise--frozen--s0"]["message"]
    assert not (results / "concise--frozen--s0").exists()  # the lock made it; nothing was left


def test_two_locks_on_one_folder_conflict_even_inside_one_process(tmp_path):
    with FolderLock(tmp_path / "f"):
        with pytest.raises(Exception, match="is in use by pid"):
            FolderLock(tmp_path / "f").acquire()
    with FolderLock(tmp_path / "f"):  # released on exit: taken again at once
        pass
    assert not (tmp_path / "f").exists()  # created by the lock, empty: removed again
    with FolderLock(tmp_path / "a" / "b" / "c"):
        assert (tmp_path / "a" / "b" / "c" / LOCK_FILE).is_file()
    assert sorted(p.name for p in tmp_path.iterdir()) == []  # parents it made go too


@pytest.mark.parametrize("owner, refused", [
    ({"pid": "self-parent"}, True),              # a live process on this host
    ({"pid": "dead"}, False),                    # a dead process on this host: stale
    ({"pid": "self-parent", "host": "elsewhere"}, True),  # another host: cannot be checked
])
def test_without_working_flock_the_pid_host_record_decides(owner, refused, tmp_path, monkeypatch):
    """Some network file systems answer flock with ENOLCK; the lock then trusts its record."""
    import fcntl

    dead = subprocess.Popen(["true"])
    dead.wait()
    pid = {"self-parent": os.getppid(), "dead": dead.pid}[owner["pid"]]
    folder = tmp_path / "run"
    folder.mkdir()
    (folder / LOCK_FILE).write_text(json.dumps({"pid": pid, "host": owner.get("host", socket.gethostname()),
                                                "started": "then"}))

    def no_flock(fd, operation):
        raise OSError(errno.ENOLCK, "No locks available")

    monkeypatch.setattr(fcntl, "flock", no_flock)
    lock = FolderLock(folder)
    if refused:
        with pytest.raises(Exception, match=f"in use by pid {pid}"):
            lock.acquire()
        assert json.loads((folder / LOCK_FILE).read_text())["pid"] == pid  # left alone
    else:
        with lock:
            assert json.loads((folder / LOCK_FILE).read_text())["pid"] == os.getpid()
        assert not (folder / LOCK_FILE).exists()
