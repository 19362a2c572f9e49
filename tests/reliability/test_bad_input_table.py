"""A table of hostile and broken inputs across every command: each ends in exit 2, ONE line
on stderr naming the file, field or flag, no traceback, and nothing written or changed.

The categories are the ones an adversarial trial found ending in tracebacks or silently
accepted: nesting thousands deep in every JSON/YAML/JSONL reader, undecodable bytes in run
logs, corrupt run folders (duplicated interactions or updates, a broken line that is not
the torn tail), tampered checkpoints, a persona or prompt pool edited before `--resume`,
output folders that are files, devices or empty, devices this machine lacks, options a
learner or user rejects, and a folder another writer holds. Every case runs the real CLI
in process (`simbench.cli.main`) against copies of one real tiny run.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import textwrap
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

import pytest
from reliability_helpers import run_config, write_run_config

from simbench.cli import main

DEEP = 100_000  # far beyond Python's recursion limit: every parser used to overflow here


def deep_json() -> str:
    return "[" * DEEP + "]" * DEEP


def deep_yaml() -> str:
    return "[" * DEEP + "]" * DEEP + "\n"


# ---------------------------------------------------------------------------- the base run


POOL_TRAIN = [{"id": f"t{i}", "text": f"How does thing number {i} work?"} for i in range(6)]
POOL_PROBE = [{"id": f"p{i}", "text": f"Explain idea number {i} briefly."} for i in range(3)]
PERSONA = textwrap.dedent("""\
    id: tiny
    name: Tiny
    background: A tester who likes short answers.
    interactions: 8
    prompts: {train: pools/train.jsonl, probe: pools/probe.jsonl}
    schedule:
      - at: 0
        preferences: [concise]
    """)


def _jsonl(path: Path, rows: list[dict]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")


@pytest.fixture(scope="module")
def base(tmp_path_factory, tiny_model_dir) -> Path:
    """A folder holding persona.yaml, pools/, run.json and run/: a complete 8-interaction
    sdpo-token run (4 updates, probes at 0, 4, 8) made with paths relative to the folder,
    so a copy of the folder is a self-consistent run anywhere."""
    import torch

    from simbench.runner.run import execute

    root = tmp_path_factory.mktemp("base")
    (root / "persona.yaml").write_text(PERSONA, encoding="utf-8")
    _jsonl(root / "pools" / "train.jsonl", POOL_TRAIN)
    _jsonl(root / "pools" / "probe.jsonl", POOL_PROBE)
    write_run_config(root / "run.json", tiny_model_dir, learner="sdpo-token", persona="persona.yaml",
                     interactions=8, probe_every=4)
    previous, threads = Path.cwd(), torch.get_num_threads()
    os.chdir(root)
    torch.set_num_threads(1)
    try:
        assert execute(run_config(root / "run.json"), out=Path("run")).status == "complete"
    finally:
        os.chdir(previous)
        torch.set_num_threads(threads)
    return root


# ---------------------------------------------------------------------------- tampering


def _lines(path: Path) -> list[bytes]:
    return path.read_bytes().splitlines(keepends=True)


def insert_line(log: str, index: int, line: bytes) -> Callable[[Path], None]:
    def tamper(root: Path) -> None:
        path = root / "run" / f"{log}.jsonl"
        lines = _lines(path)
        path.write_bytes(b"".join(lines[:index] + [line] + lines[index:]))
    return tamper


def duplicate_line(log: str, index: int) -> Callable[[Path], None]:
    def tamper(root: Path) -> None:
        path = root / "run" / f"{log}.jsonl"
        lines = _lines(path)
        path.write_bytes(b"".join(lines[: index + 1] + [lines[index]] + lines[index + 1:]))
    return tamper


def drop_last_line(log: str) -> Callable[[Path], None]:
    def tamper(root: Path) -> None:
        path = root / "run" / f"{log}.jsonl"
        path.write_bytes(b"".join(_lines(path)[:-1]))
    return tamper


def swap_lines(log: str, a: int, b: int) -> Callable[[Path], None]:
    def tamper(root: Path) -> None:
        path = root / "run" / f"{log}.jsonl"
        lines = _lines(path)
        lines[a], lines[b] = lines[b], lines[a]
        path.write_bytes(b"".join(lines))
    return tamper


def write(relative: str, content: str | bytes) -> Callable[[Path], None]:
    def tamper(root: Path) -> None:
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content.encode() if isinstance(content, str) else content)
    return tamper


def edit_json(relative: str, change: Callable[[dict], None]) -> Callable[[Path], None]:
    def tamper(root: Path) -> None:
        path = root / relative
        data = json.loads(path.read_text(encoding="utf-8"))
        change(data)
        path.write_text(json.dumps(data), encoding="utf-8")
    return tamper


def latest_state(root: Path) -> str:
    name = (root / "run" / "checkpoints" / "LATEST").read_text().strip()
    return f"run/checkpoints/{name}/state.json"


def edit_state(change: Callable[[dict], None]) -> Callable[[Path], None]:
    return lambda root: edit_json(latest_state(root), change)(root)


def make_dir(relative: str) -> Callable[[Path], None]:
    return lambda root: (root / relative).mkdir(parents=True)


def results_with_unreadable_run(root: Path) -> None:
    shutil.move(str(root / "run"), str(root / "results" / "broken"))
    (root / "results" / "broken" / "manifest.json").write_text("{not json", encoding="utf-8")


def no_tamper(root: Path) -> None:
    return None


CONVERSATION = json.dumps([{"role": "user", "content": "Hi?"}, {"role": "assistant", "content": "Hello."},
                           {"role": "user", "content": "Shorter."}]) + "\n"


def insert_line_in(relative: str, index: int, line: str) -> Callable[[Path], None]:
    def tamper(root: Path) -> None:
        path = root / relative
        lines = _lines(path)
        path.write_bytes(b"".join(lines[:index] + [line.encode() + b"\n"] + lines[index:]))
    return tamper


def edit_first_record(log: str, change: dict) -> Callable[[Path], None]:
    def tamper(root: Path) -> None:
        path = root / "run" / f"{log}.jsonl"
        lines = _lines(path)
        lines[0] = (json.dumps({**json.loads(lines[0]), **change}) + "\n").encode()
        path.write_bytes(b"".join(lines))
    return tamper


def grow_size(log: str, root: Path) -> Callable[[dict], None]:
    """The checkpoint's recorded length of `log`, grown by the line a tamper inserted."""
    extra = len(_lines(root / "run" / f"{log}.jsonl")[0])
    return lambda state: state["log_sizes"].update({log: state["log_sizes"][log] + extra})


def sweep_config(root: Path) -> None:
    settings = json.loads((root / "run.json").read_text())
    settings.pop("learner"), settings.pop("persona")
    (root / "sweep.json").write_text(json.dumps(settings))



# ---------------------------------------------------------------------------- the table


RESUME = ["run", "--config", "run.json", "--out", "run", "--resume", "--quiet"]
NEW_RUN = ["run", "--config", "run.json", "--quiet", "--out"]


@dataclass
class Case:
    id: str
    args: list[str]
    where: str                                   # the error line starts with "error: " + this
    fragments: list[str]
    tamper: Callable[[Path], None] = no_tamper
    needs: str = ""                              # "no-cuda", "not-root": skipped otherwise
    lock: str = ""                               # a folder another writer holds during the case


CASES = [
    # -- nesting thousands deep, in every reader --------------------------------------------
    Case("config-json-deep", ["run", "--config", "deep.json"], "deep.json", ["nested more than"],
         write("deep.json", deep_json())),
    Case("config-yaml-deep", ["run", "--config", "deep.yaml"], "deep.yaml", ["nested more than"],
         write("deep.yaml", deep_yaml())),
    Case("config-yaml-deep-option", ["run", "--config", "deep.yaml"], "deep.yaml", ["nested more than"],
         write("deep.yaml", "learner_options:\n  x: " + deep_yaml())),
    Case("persona-deep", ["personas", "validate", "deep.yaml"], "deep.yaml", ["nested more than"],
         write("deep.yaml", "id: x\nbackground: " + deep_yaml())),
    Case("persona-deep-run", ["run", "--persona", "deep.yaml", "--out", "new"], "deep.yaml", ["nested more than"],
         write("deep.yaml", "id: x\nbackground: " + deep_yaml())),
    Case("persona-show-deep", ["personas", "show", "deep.yaml"], "deep.yaml", ["nested more than"],
         write("deep.yaml", "id: x\nschedule: " + deep_yaml())),
    Case("pool-deep", ["personas", "validate", "persona.yaml"], "persona.yaml: prompts.train",
         ["train.jsonl, line 2", "nested more than"], insert_line_in("pools/train.jsonl", 1, deep_json())),
    Case("pool-deep-run", NEW_RUN + ["new"], "persona.yaml: prompts.probe", ["probe.jsonl, line 1", "nested more than"],
         insert_line_in("pools/probe.jsonl", 0, deep_json())),
    Case("conversations-deep", ["distill", "--conversations", "c.jsonl", "--out", "d", "--on-error", "reject"],
         "c.jsonl, line 1", ["nested too deeply"], write("c.jsonl", deep_json() + "\n")),
    Case("signal-cases-deep", ["signal", "--cases", "cases.jsonl", "--out", "s"], "cases.jsonl, line 1",
         ["nested more than"], write("cases.jsonl", deep_json() + "\n")),
    Case("report-probes-deep", ["report", "run"], "run/probes.jsonl: line 2", ["nested more than"],
         insert_line("probes", 1, deep_json().encode() + b"\n")),
    Case("report-manifest-deep", ["report", "run"], "run/manifest.json", ["nested more than"],
         write("run/manifest.json", deep_json())),
    Case("report-signals-deep", ["report", "run"], "run/signals.jsonl: line 1", ["nested more than"],
         insert_line("signals", 0, deep_json().encode() + b"\n")),
    Case("report-general-deep", ["report", "run"], "run/general.jsonl: line 1", ["nested more than"],
         insert_line("general", 0, deep_json().encode() + b"\n")),
    Case("resume-manifest-deep", RESUME, "run/manifest.json", ["nested more than"],
         write("run/manifest.json", deep_json())),
    Case("resume-state-deep", RESUME, "run/checkpoints/", ["state.json", "nested more than"],
         lambda root: write(latest_state(root), deep_json())(root)),
    Case("resume-log-deep", RESUME, "run/interactions.jsonl: line 1", ["nested more than"],
         lambda root: (insert_line("interactions", 0, deep_json().encode() + b"\n")(root),
                       edit_state(grow_size("interactions", root))(root))),
    # -- undecodable bytes and broken lines in run logs --------------------------------------
    Case("report-probes-bad-bytes", ["report", "run"], "run/probes.jsonl: line 2", ["not UTF-8"],
         insert_line("probes", 1, b'{"t": 0, "probe_id": "\xff\xfe"}\n')),
    Case("report-interactions-bad-bytes", ["report", "run"], "run/interactions.jsonl: line 1", ["not UTF-8"],
         insert_line("interactions", 0, b"\xc3\x28\n")),
    Case("report-manifest-bad-bytes", ["report", "run"], "run/manifest.json: line 1", ["not UTF-8", "0xff"],
         write("run/manifest.json", b'{"status": "\xff"}')),
    Case("report-broken-last-line-with-newline", ["report", "run"], "run/probes.jsonl: line", ["malformed JSON"],
         lambda root: (root / "run" / "probes.jsonl").open("ab").write(b'{"t": 8, "probe\n')),
    Case("report-broken-middle-line", ["report", "run"], "run/updates.jsonl: line 2", ["malformed JSON"],
         insert_line("updates", 1, b"{oops\n")),
    Case("report-log-is-a-folder", ["report", "run"], "run/updates.jsonl", ["is a directory"],
         lambda root: ((root / "run" / "updates.jsonl").unlink(), (root / "run" / "updates.jsonl").mkdir())),
    Case("resume-manifest-bad-bytes", RESUME, "run/manifest.json: line 1", ["not UTF-8"],
         write("run/manifest.json", b"\xff\xfe{}")),
    # -- corrupt run folders: what two writers (or a hand edit) leave ------------------------
    Case("report-interaction-twice", ["report", "run"], "run/interactions.jsonl: record 2",
         ["interaction t=0 turn 0 appears twice"], duplicate_line("interactions", 0)),
    Case("report-update-twice", ["report", "run"], "run/updates.jsonl: record 2",
         ["update 0 appears twice"], duplicate_line("updates", 0)),
    Case("report-probe-twice", ["report", "run"], "run/probes.jsonl: record 2", ["appears twice"],
         duplicate_line("probes", 0)),
    Case("report-t-goes-back", ["report", "run"], "run/interactions.jsonl: record 2", ["out of order"],
         swap_lines("interactions", 0, 1)),
    Case("report-probe-t-goes-back", ["report", "run"], "run/probes.jsonl: record", ["t must not go back"],
         swap_lines("probes", 0, -1)),
    Case("report-interaction-missing", ["report", "run"], "run/updates.jsonl: record 4",
         ["update at t=8 but only 7 interactions are logged"], drop_last_line("interactions")),
    Case("report-complete-at-wrong-position", ["report", "run"], "run/manifest.json",
         ["status is complete but position is 6"], edit_json("run/manifest.json", lambda m: m.update(position=6))),
    Case("report-update-beyond-log", ["report", "run"], "run/updates.jsonl: record 4",
         ["only 6 interactions are logged"], lambda root: [drop_last_line("interactions")(root) for _ in range(2)]),
    Case("report-signal-without-update", ["report", "run"], "run/signals.jsonl: record 1", ["update 99"],
         edit_first_record("signals", {"update": 99})),
    Case("report-interaction-beyond-episode", ["report", "run"], "run/interactions.jsonl: record 1",
         ["beyond the episode"], edit_first_record("interactions", {"t": 99})),
    Case("metrics-via-leaderboard-corrupt", ["leaderboard", "."], "RESULTS_DIR",
         ["no complete, readable runs", "run: ", "appears twice"], duplicate_line("updates", 0)),
    Case("leaderboard-unreadable-manifest", ["leaderboard", "results"], "RESULTS_DIR",
         ["broken: manifest.json", "malformed JSON"], results_with_unreadable_run),
    # -- tampered checkpoints and manifests on --resume --------------------------------------
    Case("resume-manifest-not-json", RESUME, "run/manifest.json", ["malformed JSON"], write("run/manifest.json", "{")),
    Case("resume-manifest-a-list", RESUME, "run/manifest.json", ["must hold a JSON object", "got list"],
         write("run/manifest.json", "[1, 2]")),
    Case("resume-manifest-without-config", RESUME, "run/manifest.json: config", ["missing or not a mapping"],
         edit_json("run/manifest.json", lambda m: m.pop("config"))),
    Case("resume-latest-escapes", RESUME, "run/checkpoints/LATEST", ["not a checkpoint folder"],
         write("run/checkpoints/LATEST", "../../../etc\n")),
    Case("resume-latest-missing-checkpoint", RESUME, "run/checkpoints/LATEST", ["not a checkpoint folder"],
         write("run/checkpoints/LATEST", "ckpt-0009999\n")),
    Case("resume-latest-binary", RESUME, "run/checkpoints/LATEST", ["not a checkpoint folder"],
         write("run/checkpoints/LATEST", b"\xff\x00\x01")),
    Case("resume-state-not-json", RESUME, "run/checkpoints/", ["state.json", "malformed JSON"],
         lambda root: write(latest_state(root), "{]")(root)),
    Case("resume-state-negative-t", RESUME, "run/checkpoints/", ["state.json: t", "got -1"],
         edit_state(lambda s: s.update(t=-1))),
    Case("resume-state-t-beyond-episode", RESUME, "run/checkpoints/", ["state.json: t", "got 999"],
         edit_state(lambda s: s.update(t=999))),
    Case("resume-state-sizes-wrong-type", RESUME, "run/checkpoints/", ["log_sizes", "byte lengths"],
         edit_state(lambda s: s.update(log_sizes=[1, 2]))),
    Case("resume-state-t-disagrees-with-logs", RESUME, "run/updates.jsonl: record 3",
         ["update at t=6 but only 4 interactions are logged"], edit_state(lambda s: s.update(t=4))),
    Case("resume-log-shorter-than-checkpoint", RESUME, "run/probes.jsonl", ["shorter than the"],
         write("run/probes.jsonl", "")),
    Case("resume-duplicate-in-checkpointed-logs", RESUME, "run/updates.jsonl: record 2", ["update 0 appears twice"],
         lambda root: (duplicate_line("updates", 0)(root), edit_state(grow_size("updates", root))(root))),
    # -- what --resume must notice changed --------------------------------------------------
    Case("resume-persona-edited", RESUME, "--resume", ["persona persona.yaml (content hash)", "changed since"],
         lambda root: (root / "persona.yaml").write_text(PERSONA.replace("concise]", "concise, no-emojis]"))),
    Case("resume-probe-pool-edited", RESUME, "--resume", ["the probe prompt pool", "changed since"],
         write("pools/probe.jsonl", "".join(json.dumps({**p, "text": p["text"] + "!"}) + "\n" for p in POOL_PROBE))),
    Case("resume-train-pool-edited", RESUME, "--resume", ["the training prompt pool", "changed since"],
         write("pools/train.jsonl", "".join(json.dumps(p) + "\n" for p in POOL_TRAIN[:-1]))),
    Case("resume-token-cap-changed", RESUME + ["--max-new-tokens", "9"], "--resume", ["max_new_tokens: 8 -> 9"]),
    Case("resume-learner-option-changed", RESUME + ["--learner-option", "lr=0.5"], "--resume",
         ["learner_options.lr: None -> 0.5"]),
    Case("resume-seed-changed", RESUME + ["--seed", "3"], "--resume", ["seed: 0 -> 3"]),
    # -- one writer per folder --------------------------------------------------------------
    Case("second-run-on-locked-folder", NEW_RUN + ["busy"], "--out", ["run folder busy is in use by pid"],
         make_dir("busy"), lock="busy"),
    Case("second-resume-on-locked-run", RESUME, "--out", ["run folder run is in use by pid"], lock="run"),
    Case("second-sweep-on-locked-results", ["sweep", "--personas", "persona.yaml", "--learners", "frozen",
         "--config", "sweep.json", "--out", "results", "--quiet"], "--out",
         ["results folder results is in use by pid"], lambda root: (make_dir("results")(root), sweep_config(root)),
         lock="results"),
    # -- output folders ---------------------------------------------------------------------
    Case("run-out-empty", NEW_RUN + [""], "--out", ["is empty"]),
    Case("run-out-a-file", NEW_RUN + ["run.json"], "--out", ["run.json is a file"]),
    Case("run-out-dev-null", NEW_RUN + ["/dev/null"], "--out", ["/dev/null is not a folder"]),
    Case("run-out-under-a-file", NEW_RUN + ["run.json/sub"], "--out", ["run.json is not a folder"]),
    Case("run-out-read-only", NEW_RUN + ["ro/run"], "--out", ["ro is not writable"], make_dir("ro"), needs="read-only"),
    Case("run-out-immutable", NEW_RUN + ["imm/run"], "--out", ["imm is not writable"], make_dir("imm"),
         needs="immutable"),
    Case("report-out-immutable", ["report", "run", "--out", "imm"], "--out", ["imm is not writable"], make_dir("imm"),
         needs="immutable"),
    Case("leaderboard-out-immutable", ["leaderboard", ".", "--out", "imm"], "--out", ["imm is not writable"],
         make_dir("imm"), needs="immutable"),
    Case("report-out-a-file", ["report", "run", "--out", "run.json"], "--out", ["run.json is a file"]),
    Case("report-out-dev-null", ["report", "run", "--out", "/dev/null"], "--out", ["/dev/null is not a folder"]),
    Case("report-out-empty", ["report", "run", "--out", ""], "--out", ["is empty"]),
    Case("report-out-read-only", ["report", "run", "--out", "ro"], "--out", ["ro is not writable"], make_dir("ro"),
         needs="read-only"),
    Case("leaderboard-out-a-file", ["leaderboard", ".", "--out", "run.json"], "--out", ["run.json is a file"]),
    Case("leaderboard-out-empty", ["leaderboard", ".", "--out", ""], "--out", ["is empty"]),
    Case("sweep-out-a-file", ["sweep", "--personas", "persona.yaml", "--learners", "frozen", "--out", "run.json"],
         "--out", ["run.json is a file"]),
    Case("sweep-out-empty", ["sweep", "--personas", "persona.yaml", "--learners", "frozen", "--out", ""],
         "--out", ["is empty"]),
    Case("signal-out-a-file", ["signal", "--out", "run.json"], "--out", ["run.json is a file"]),
    Case("distill-out-empty", ["distill", "--conversations", "run.json", "--out", ""], "--out", ["is empty"]),
    # -- devices, models, learner and user options (all before a model loads) ----------------
    Case("run-device-gpu9", NEW_RUN + ["new", "--device", "gpu9"], "--device", ["unknown device 'gpu9'"]),
    Case("run-device-cuda", NEW_RUN + ["new", "--device", "cuda"], "--device", ["needs CUDA"], needs="no-cuda"),
    Case("run-device-cuda-index", NEW_RUN + ["new", "--device", "cuda:7"], "--device", ["cuda:7"]),
    Case("sweep-device-gpu9", ["sweep", "--personas", "persona.yaml", "--learners", "frozen", "--out", "r",
                               "--config", "sweep.json", "--device", "gpu9"], "--device", ["unknown device 'gpu9'"],
         lambda root: sweep_config(root)),
    Case("signal-device-gpu9", ["signal", "--out", "s", "--device", "gpu9"], "--device", ["unknown device"]),
    Case("distill-device-cuda", ["distill", "--conversations", "c.jsonl", "--out", "d", "--device", "cuda:3"],
         "--device", ["cuda:3"], write("c.jsonl", CONVERSATION)),
    Case("run-model-missing", NEW_RUN + ["new", "--model", "/no/such/model"], "--model", ["no such model folder"]),
    Case("run-model-folder-without-config", NEW_RUN + ["new", "--model", "empty-model"], "--model",
         ["no config.json"], make_dir("empty-model")),
    Case("signal-model-missing", ["signal", "--out", "s", "--model", "/no/such/model"], "--model",
         ["no such model folder"]),
    Case("run-local-user-model-missing", NEW_RUN + ["new", "--user", "local", "--user-option", "model=/no/such"],
         "--user-option model", ["no such model folder"]),
    Case("run-local-user-unknown-option", NEW_RUN + ["new", "--user", "local", "--user-option", "temprature=1"],
         "--user-option", ["unknown option 'temprature'"]),
    Case("run-learner-option-unknown", NEW_RUN + ["new", "--learner-option", "lora_rr=4"], "--learner-option",
         ["lora_rr", "did you mean 'lora_r'?"]),
    Case("run-learner-option-bad-value", NEW_RUN + ["new", "--learner-option", "lr=-1"], "--learner-option",
         ["sdpo-token", "lr"]),
    Case("run-memory-size-zero", NEW_RUN + ["new", "--learner", "in-context-memory", "--learner-option",
                                            "memory_size=0"], "--learner-option", ["memory_size", "got 0"]),
    Case("run-fewshot-oracle-bad-statement", NEW_RUN + ["new", "--learner", "in-context-oracle-fewshot",
                                                        "--learner-option", "statement=nowhere"],
         "--learner-option", ["in-context-oracle-fewshot", "statement must be one of", "'nowhere'"]),
    Case("teachability-out-a-file", ["teachability", "--out", "run.json"], "--out", ["run.json is a file"]),
    Case("teachability-out-empty", ["teachability", "--out", ""], "--out", ["is empty"]),
    Case("teachability-device-gpu9", ["teachability", "--out", "t", "--device", "gpu9"], "--device",
         ["unknown device 'gpu9'"]),
    Case("teachability-model-missing", ["teachability", "--out", "t", "--model", "/no/such/model"], "--model",
         ["no such model folder"]),
    Case("run-openai-user-without-url", NEW_RUN + ["new", "--user", "openai"], "--user-option",
         ["user 'openai' needs base_url, model"]),
    Case("run-openai-key-variable-unset", NEW_RUN + ["new", "--user", "openai", "--user-option",
                                                     "base_url=http://127.0.0.1:9/v1", "--user-option", "model=m",
                                                     "--user-option", "api_key_env=SIMBENCH_UNSET_KEY"],
         "user.api_key_env", ["'SIMBENCH_UNSET_KEY' is not set"]),
]

# ---------------------------------------------------------------------------- the test


def snapshot(root: Path) -> dict[str, tuple]:
    """Every path under `root` (and root itself) with its type, mode, mtime and bytes."""
    out = {}
    for path in [root, *sorted(root.rglob("*"))]:
        stat = path.lstat()
        content = path.read_bytes() if path.is_file() and not path.is_symlink() else None
        out[str(path.relative_to(root))] = (stat.st_mode, stat.st_mtime_ns, content)
    return out


def _skip_reason(needs: str) -> str | None:
    if needs == "no-cuda":
        import torch

        return "CUDA is available here" if torch.cuda.is_available() else None
    if needs == "read-only" and os.geteuid() == 0:
        return "root can write to read-only folders"
    if needs == "immutable" and (os.geteuid() != 0 or not shutil.which("chattr")):
        return "making a folder immutable needs root and chattr"
    return None


@contextmanager
def immutable(folder: Path) -> Iterator[None]:
    """`chattr +i folder` for the duration (skips where the file system has no such flag)."""
    if subprocess.run(["chattr", "+i", str(folder)], capture_output=True).returncode != 0:
        pytest.skip("this file system has no immutable flag")
    try:
        yield
    finally:
        subprocess.run(["chattr", "-i", str(folder)], check=True)


def test_the_table_covers_every_command_with_at_least_60_cases():
    commands = {case.args[0] if case.args[0] != "personas" else "personas " + case.args[1] for case in CASES}
    assert commands >= {"run", "sweep", "report", "leaderboard", "signal", "distill", "teachability",
                        "personas validate", "personas show"}
    assert len(CASES) >= 60 and len({case.id for case in CASES}) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_bad_input_exits_2_with_one_line_and_changes_nothing(case, base, tmp_path, monkeypatch, capsys,
                                                              one_torch_thread):
    from simbench.runner.lock import FolderLock

    reason = _skip_reason(case.needs)
    if reason:
        pytest.skip(reason)
    root = tmp_path / "case"
    shutil.copytree(base, root)
    case.tamper(root)
    if case.needs == "read-only":
        (root / "ro").chmod(0o555)
    monkeypatch.chdir(root)
    monkeypatch.delenv("SIMBENCH_UNSET_KEY", raising=False)
    lock = FolderLock(root / case.lock).acquire() if case.lock else None
    frozen = immutable(root / "imm") if case.needs == "immutable" else nullcontext()
    try:
        with frozen:
            before = snapshot(root)
            with pytest.raises(SystemExit) as exit_info:
                main(case.args)
            after = snapshot(root)
    finally:
        if lock is not None:
            lock.release()
    captured = capsys.readouterr()
    assert exit_info.value.code == 2, captured.err
    assert "Traceback" not in captured.err and captured.out == ""
    lines = captured.err.strip().splitlines()
    errors = [line for line in lines if not line.startswith("warning: ")]
    assert len(errors) == 1 and errors[0] == lines[-1], captured.err
    message = errors[0]
    assert message.startswith("error: " + case.where), message
    for fragment in case.fragments:
        assert fragment in message, f"{fragment!r} not in {message!r}"
    changed = sorted(k for k in set(before) | set(after) if before.get(k) != after.get(k))
    assert changed == [], f"changed: {changed}"


def test_a_real_cli_process_refuses_a_corrupt_run_with_one_line(base, tmp_path):
    """The same refusal through `python -m simbench` (stdout empty, exit 2, one line)."""
    from reliability_helpers import run_cli

    root = tmp_path / "case"
    shutil.copytree(base, root)
    duplicate_line("updates", 0)(root)
    result = run_cli("report", "run", cwd=root, timeout=120)
    assert result.returncode == 2 and result.stdout == "", result.stderr
    assert result.stderr.count("\n") == 1 and "update 0 appears twice" in result.stderr


def test_the_base_run_itself_is_accepted_by_report_and_resume(base, tmp_path, monkeypatch, capsys):
    """The table's refusals come from the tampering, not from the base run."""
    root = tmp_path / "case"
    shutil.copytree(base, root)
    monkeypatch.chdir(root)
    for args in (["report", "run", "--out", "rep", "--bootstrap", "5"], RESUME):
        try:
            main(args)
            code = 0
        except SystemExit as exc:
            code = exc.code
        assert code in (0, None), capsys.readouterr().err
    assert (root / "rep" / "report.html").is_file()
