"""Shared folders: no command writes through a symbolic link planted where it will write, and
every file and folder a run writes gets open()'s mode (0666/0777 minus the umask).

The paths are not listed by hand: they are every path a real resume, sweep, report and
leaderboard left behind (plus the lock file, which is removed on exit). For each one a fresh
copy gets a link there pointing at a "victim" file or folder outside; the command must either
succeed and leave a regular file in place of the link, or exit 2 with one line and change
nothing. The victim's bytes and mode never change.
"""

from __future__ import annotations

import json
import os
import shutil
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

import pytest
from cli_inprocess import run_main
from reliability_helpers import run_config, write_run_config
from test_bad_input_table import PERSONA, POOL_PROBE, POOL_TRAIN, _jsonl

LOCK = ".simbench.lock"
RESUME = ["run", "--config", "run.json", "--out", "run", "--resume", "--quiet"]
REPORT = ["report", "run", "--bootstrap", "5"]
LEADERBOARD = ["leaderboard", "results", "--bootstrap", "5"]
SWEEP = ["sweep", "--personas", "persona.yaml", "--learners", "frozen", "--config", "sweep.json",
         "--out", "results", "--quiet"]
VICTIM_BYTES = b"victim: must never change\n"


class Crash(Exception):
    """Stands in for a killed process, so the run folder keeps a mid-episode checkpoint."""


def _make_inputs(root: Path, model_dir: Path, **overrides: Any) -> None:
    (root / "persona.yaml").write_text(PERSONA, encoding="utf-8")
    _jsonl(root / "pools" / "train.jsonl", POOL_TRAIN)
    _jsonl(root / "pools" / "probe.jsonl", POOL_PROBE)
    write_run_config(root / "run.json", model_dir,
                     **{"learner": "sdpo-token", "persona": "persona.yaml", "interactions": 8,
                        "probe_every": 4, **overrides})
    settings = json.loads((root / "run.json").read_text())
    settings.pop("learner"), settings.pop("persona")
    (root / "sweep.json").write_text(json.dumps(settings))


@contextmanager
def _inside(root: Path) -> Iterator[None]:
    import torch

    previous, threads = Path.cwd(), torch.get_num_threads()
    os.chdir(root)
    torch.set_num_threads(1)
    try:
        yield
    finally:
        os.chdir(previous)
        torch.set_num_threads(threads)


def _quiet_main(*args: str) -> int:
    from simbench.cli import main

    try:
        main(list(args))
    except SystemExit as exc:
        return exc.code or 0
    return 0


def _tree(folder: Path) -> dict[str, bool]:
    """Relative path -> is a folder, for everything under `folder`."""
    return {str(p.relative_to(folder)): p.is_dir() for p in folder.rglob("*")}


@pytest.fixture(scope="module")
def crashed(tmp_path_factory, tiny_model_dir) -> Path:
    """Inputs + run/: an 8-interaction sdpo-token run killed just after its checkpoint at 4."""
    from simbench.runner.run import execute

    root = tmp_path_factory.mktemp("crashed")
    _make_inputs(root, tiny_model_dir)
    seen: list[int] = []

    def crash_after_checkpoint_4(event: Any, progress: Any) -> None:
        if seen:
            raise Crash
        if type(event).__name__ == "BatchDone" and event.t == 4:
            seen.append(event.t)

    with _inside(root), pytest.raises(Crash):
        execute(run_config(root / "run.json"), out=Path("run"), on_event=crash_after_checkpoint_4)
    return root


@pytest.fixture(scope="module")
def complete(crashed, tmp_path_factory) -> tuple[Path, dict[str, dict[str, bool]]]:
    """The crashed run resumed to completion, reported, and put on a leaderboard; and what
    each command wrote (relative path -> is a folder), found by running it."""
    root = tmp_path_factory.mktemp("complete") / "w"
    shutil.copytree(crashed, root, symlinks=True)
    written: dict[str, dict[str, bool]] = {}
    with _inside(root):
        before = _tree(root / "run")
        assert _quiet_main(*RESUME) == 0
        written["run"] = {**before, **_tree(root / "run"), LOCK: False}
        assert _quiet_main(*REPORT) == 0
        written["report"] = {k: v for k, v in _tree(root / "run").items() if k not in written["run"]}
        shutil.copytree(root / "run", root / "results" / "run")
        inputs = _tree(root / "results")
        assert _quiet_main(*LEADERBOARD) == 0
        written["leaderboard"] = {k: v for k, v in _tree(root / "results").items() if k not in inputs}
        assert _quiet_main(*SWEEP[:-3], "--out", "swept", "--quiet") == 0
        written["sweep"] = {**_tree(root / "swept"), LOCK: False}
    assert written["report"] and written["leaderboard"] and "sweep.json" in written["sweep"]
    assert any(p.endswith("adapter_model.safetensors") for p in written["run"])
    return root, written


# ---------------------------------------------------------------------------- planting


@pytest.fixture
def victims(tmp_path) -> tuple[Path, Path]:
    """A file and a folder outside every case folder, with known bytes and unusual modes."""
    victim = tmp_path / "victim.txt"
    victim.write_bytes(VICTIM_BYTES)
    victim.chmod(0o640)
    folder = tmp_path / "victim-folder"
    folder.mkdir()
    (folder / "keep.txt").write_bytes(VICTIM_BYTES)
    folder.chmod(0o750)
    return victim, folder


def _state(folder: Path) -> dict[str, Any]:
    """Every entry under `folder` (links not followed): kind, bytes or target, and mode."""
    found: dict[str, Any] = {}
    for parent, folders, files in os.walk(folder):
        for name in folders + files:
            path = Path(parent) / name
            info = path.lstat()
            if path.is_symlink():
                found[str(path.relative_to(folder))] = ("link", os.readlink(path))
            elif path.is_dir():
                found[str(path.relative_to(folder))] = ("folder", info.st_mode)
            else:
                found[str(path.relative_to(folder))] = ("file", path.read_bytes(), info.st_mode)
    return found


def _victim_state(victim: Path, folder: Path) -> Any:
    return (victim.read_bytes(), victim.stat().st_mode, folder.stat().st_mode, _state(folder))


def _plant(path: Path, is_folder: bool, victims: tuple[Path, Path]) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    elif path.is_symlink() or path.exists():
        path.unlink()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.symlink_to(victims[1] if is_folder else victims[0])


def _planted_everywhere(capsys, victims: tuple[Path, Path], source: Path, inside: str,
                        paths: dict[str, bool], args: list[str], tmp_path: Path) -> list[str]:
    """Run `args` once per path with a link planted at `inside/path` in a fresh copy of
    `source`; the problems found (empty when every case behaved)."""
    problems = []
    for index, (relative, is_folder) in enumerate(sorted(paths.items())):
        case = tmp_path / f"case{index}"
        shutil.copytree(source, case, symlinks=True)
        planted = case / inside / relative
        _plant(planted, is_folder, victims)
        victim_before, case_before = _victim_state(*victims), _state(case)
        with _inside(case):
            code, out, err = run_main(capsys, *args)
        if _victim_state(*victims) != victim_before:
            problems.append(f"{relative}: the victim changed (exit {code})")
        if code == 0:
            if planted.is_symlink():
                problems.append(f"{relative}: exit 0 but the link is still there")
        elif code != 2:
            problems.append(f"{relative}: exit {code}: {err.strip()[-300:]}")
        else:
            lines = err.strip().splitlines()
            if len(lines) != 1 or "Traceback" in err:
                problems.append(f"{relative}: exit 2 but not one line: {err!r}")
            if _state(case) != case_before:
                problems.append(f"{relative}: exit 2 but the folder changed")
        shutil.rmtree(case)
    return problems


def test_a_resume_never_writes_through_a_link_planted_at_any_path_of_the_run(
        complete, crashed, victims, capsys, tmp_path, one_torch_thread):
    _, written = complete
    assert _planted_everywhere(capsys, victims, crashed, "run", written["run"], RESUME, tmp_path) == []


def test_a_report_replaces_a_link_planted_at_its_pages_and_never_writes_through_it(
        complete, victims, capsys, tmp_path):
    root, written = complete
    assert _planted_everywhere(capsys, victims, root, "run", written["report"], REPORT, tmp_path) == []


def test_a_leaderboard_replaces_a_link_planted_at_its_outputs_and_never_writes_through_it(
        complete, victims, capsys, tmp_path):
    root, written = complete
    paths = written["leaderboard"]
    assert _planted_everywhere(capsys, victims, root, "results", paths, LEADERBOARD, tmp_path) == []


def test_a_sweep_never_writes_through_a_link_planted_at_any_path_it_writes(
        complete, crashed, victims, capsys, tmp_path, one_torch_thread):
    _, written = complete
    assert _planted_everywhere(capsys, victims, crashed, "results", written["sweep"], SWEEP, tmp_path) == []


# ---------------------------------------------------------------------------- the lock file


def _refused_new_run(capsys, root: Path) -> str:
    with _inside(root):
        code, out, err = run_main(capsys, "run", "--config", "run.json", "--out", "fresh", "--quiet")
    assert code == 2 and out == "" and "Traceback" not in err, err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    return lines[0]


def test_a_lock_file_that_is_a_link_is_refused_and_its_target_left_alone(
        crashed, victims, capsys, tmp_path):
    root = tmp_path / "case"
    shutil.copytree(crashed, root, symlinks=True)
    (root / "fresh").mkdir()
    (root / "fresh" / LOCK).symlink_to(victims[0])
    before = _victim_state(*victims)
    line = _refused_new_run(capsys, root)
    assert line.startswith("error: --out") and "fresh/.simbench.lock" in line and "symbolic link" in line
    assert _victim_state(*victims) == before
    assert [p.name for p in (root / "fresh").iterdir()] == [LOCK]


def test_the_folder_lock_itself_refuses_a_link_fifo_or_foreign_lock_file(tmp_path, victims):
    """`FolderLock` guards every writer (runs, sweeps), not only the run preflight."""
    from simbench.errors import InputError
    from simbench.runner.lock import FolderLock

    cases = {"link": lambda p: p.symlink_to(victims[0]), "fifo": os.mkfifo}
    if os.geteuid() == 0:
        cases["foreign"] = lambda p: (p.write_text("{}"), os.chown(p, 65534, 65534))
    for name, make in cases.items():
        folder = tmp_path / name
        folder.mkdir()
        make(folder / LOCK)
        before = _victim_state(*victims)
        with pytest.raises(InputError) as refused:
            FolderLock(folder, flag="--out").acquire()
        assert str(refused.value).startswith("--out: lock file"), refused.value
        assert _victim_state(*victims) == before
        assert [p.name for p in folder.iterdir()] == [LOCK]


def test_appends_and_truncation_refuse_a_planted_link(tmp_path, victims):
    from simbench.errors import InputError
    from simbench.logs.io import JsonlWriter, truncate

    log = tmp_path / "log.jsonl"
    log.symlink_to(victims[0])
    before = _victim_state(*victims)
    for write in (lambda: JsonlWriter(log), lambda: truncate(log, 0)):
        with pytest.raises(InputError, match="is a symbolic link"):
            write()
    assert _victim_state(*victims) == before


def test_the_judge_cache_refuses_to_append_through_a_planted_link(tmp_path, victims):
    from simbench.errors import InputError
    from simbench.judge_cache import ReplyCache

    path = tmp_path / "replies.jsonl"
    cache = ReplyCache(path)
    path.symlink_to(victims[0])  # planted after the cache was read, before the reply is stored
    before = _victim_state(*victims)
    with pytest.raises(InputError, match="is a symbolic link"):
        cache.put("key", "reply")
    assert _victim_state(*victims) == before


# ---------------------------------------------------------------------------- modes


@pytest.mark.parametrize("umask", [0o022, 0o077], ids=["umask022", "umask077"])
def test_every_file_and_folder_of_a_run_gets_open_modes_under_the_umask(
        umask, tiny_model_dir, tmp_path, capsys, one_torch_thread):
    """Checkpoints included: peft/torch write them into private temporary folders (0700, the
    safetensors weights 0600); under umask 022 everything is 0644/0755, under 077 private."""
    from sdpo.files import current_umask

    _make_inputs(tmp_path, tiny_model_dir, interactions=4)
    previous = os.umask(umask)
    try:
        assert current_umask() == umask
        with _inside(tmp_path):
            assert run_main(capsys, "run", "--config", "run.json", "--out", "run", "--quiet")[0] == 0
            assert run_main(capsys, *REPORT)[0] == 0
    finally:
        os.umask(previous)
    found = _state(tmp_path / "run")
    assert any(name.endswith("adapter_model.safetensors") for name in found)
    wrong = {name: oct(entry[-1] & 0o777) for name, entry in found.items()
             if entry[0] == "link" or entry[-1] & 0o777 != (0o777 if entry[0] == "folder" else 0o666) & ~umask}
    assert wrong == {}
    assert (tmp_path / "run").stat().st_mode & 0o777 == 0o777 & ~umask
