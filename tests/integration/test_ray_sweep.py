"""`simbench sweep --executor ray` on a real two-node Ray cluster on 127.0.0.1.

The cluster (`ray start --head` + a worker node, 1 CPU each) is started by a fixture inside a
loopback-only network namespace (see tests/raycluster.py) and torn down after; the sweeps run
in the same namespace. The same 4-cell sweep (1 persona x 2 learners x 2 seeds, a tiny random
Llama loaded by `--model <folder>`) runs once locally through the CLI; every Ray sweep must end
with exactly its logs. Without Ray (or without root for the namespace) these tests skip,
except in CI (CI=true), where the `ray` extra is installed and a skip would hide a failure.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import signal
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import pytest
from raycluster import LocalRayCluster, LoopbackNamespace, free_port, netns_available

from simbench.runner.executors.base import checkpoint_position
from simbench.runner.executors.ray import TASK_PREFIX as CELL_PREFIX

REPO = Path(__file__).resolve().parents[2]
LEARNERS = ("sdpo-token", "in-context-oracle")
SEEDS = ("0", "1")
# Checkpoints every batch and 24 interactions: long enough to kill a worker between two of them.
SETTINGS = {"interactions": 24, "batch_size": 2, "probe_every": 4, "checkpoint_every": 2,
            "probe_prompts": 2, "general_questions": 1, "max_new_tokens": 8}
SWEEP_TIMEOUT = 600

pytestmark = pytest.mark.ray


def _helpers():
    """tests/reliability/reliability_helpers.py (tiny model folders, CLI runs, strict log reading),
    loaded under its own name: that folder is on sys.path only while its tests are collected."""
    if "reliability_helpers" not in sys.modules:
        path = REPO / "tests" / "reliability" / "reliability_helpers.py"
        spec = importlib.util.spec_from_file_location("reliability_helpers", path)
        module = importlib.util.module_from_spec(spec)
        sys.modules["reliability_helpers"] = module
        spec.loader.exec_module(module)
    return sys.modules["reliability_helpers"]


H = _helpers()


def _missing(reason: str) -> None:
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(reason, pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="module", autouse=True)
def ray_installed():
    if importlib.util.find_spec("ray") is None:
        _missing("ray is not installed: pip install -e '.[ray]' (CI installs it via the 'ray' extra)")


@pytest.fixture(scope="module")
def inputs(tmp_path_factory, smol_tokenizer):
    """A persona file, a tiny model folder and a config file holding the run settings."""
    folder = tmp_path_factory.mktemp("ray-inputs")
    persona = folder / "two-phase.yaml"
    persona.write_text(
        "id: two-phase\nname: Two phases\nbackground: A tester who first wants short answers, then no emojis.\n"
        "interactions: 24\nschedule:\n  - at: 0\n    preferences: [concise]\n"
        "  - at: 12\n    preferences: [no-emojis]\n"
    )
    model = H.save_tiny_model(folder / "model", smol_tokenizer)
    config = H.write_run_config(folder / "config.json", model, **SETTINGS)
    return {"persona": persona, "config": config}


def sweep_args(inputs, out: Path, *extra: str) -> list[str]:
    return ["sweep", "--personas", str(inputs["persona"]), "--learners", *LEARNERS, "--seeds", *SEEDS,
            "--config", str(inputs["config"]), "--out", str(out), *extra]


def cell_names() -> list[str]:
    return [f"two-phase--{learner}--s{seed}" for seed in SEEDS for learner in LEARNERS]


def logs_of(out: Path) -> dict[str, dict]:
    return {name: H.run_records(out / name) for name in cell_names()}


@pytest.fixture(scope="module")
def local_logs(inputs, tmp_path_factory):
    """The sweep's logs, run locally (one after another in one process)."""
    out = tmp_path_factory.mktemp("local") / "results"
    result = H.run_cli(*sweep_args(inputs, out, "--quiet"), cwd=REPO, timeout=SWEEP_TIMEOUT)
    assert result.returncode == 0, result.stderr
    logs = logs_of(out)
    assert all(len(logs[name]["interactions"]) == SETTINGS["interactions"] for name in logs)
    return logs


@pytest.fixture(scope="module")
def cluster():
    if not netns_available():
        _missing("a loopback-only network namespace needs root and iproute2 (`ip netns`)")
    with LoopbackNamespace() as namespace:
        cluster = LocalRayCluster(H.cli_env(), namespace.prefix, cpus_per_node=1)
        try:
            yield cluster.start()
        finally:
            cluster.stop()


@contextmanager
def sweep_in_background(cluster, args: list[str]) -> Iterator[subprocess.Popen]:
    """`simbench ARGS` started in the cluster's namespace; killed on the way out if still running."""
    # SIGINT back to its default in the child: a test run started in the background of a
    # non-interactive shell inherits SIGINT ignored, and Python then never raises
    # KeyboardInterrupt, so the Ctrl-C test would see the sweep run to the end.
    process = subprocess.Popen([*cluster.prefix, *H.simbench_command(*args)], cwd=REPO, env=cluster.env,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    try:
        yield process
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def run_in(cluster, args: list[str]) -> subprocess.CompletedProcess:
    """`simbench ARGS` inside the cluster's network namespace, output captured."""
    return subprocess.run([*cluster.prefix, *H.simbench_command(*args)], cwd=REPO, env=cluster.env,
                          capture_output=True, text=True, timeout=SWEEP_TIMEOUT)


def sweep_record(out: Path) -> dict:
    return json.loads((out / "sweep.json").read_text())


def test_a_sweep_through_ray_writes_exactly_the_logs_of_the_same_sweep_run_locally(
        inputs, local_logs, cluster, tmp_path):
    out = tmp_path / "results"
    result = run_in(cluster, sweep_args(inputs, out, "--executor", "ray", "--address", cluster.address))
    assert result.returncode == 0, result.stderr
    assert logs_of(out) == local_logs

    record = sweep_record(out)
    assert record["executor"]["name"] == "ray" and record["executor"]["cluster"]["nodes"] == 2
    assert record["executor"]["cpus_per_run"] == 1 and record["executor"]["gpus_per_run"] == 0
    runs = record["runs"]
    assert {runs[name]["status"] for name in cell_names()} == {"complete"}
    # Two 1-CPU nodes and four 1-CPU cells: Ray places cells on both nodes.
    assert len({runs[name]["node"]["node_id"] for name in cell_names()}) == 2
    assert all(runs[name]["node"]["pid"] != os.getpid() for name in cell_names())
    # No terminal: one progress line per finished cell, fed by Ray's completions.
    lines = [line for line in result.stderr.splitlines() if re.match(r"\[\d+/4\] ", line)]
    assert sorted(line.split("] ")[1].split(":")[0] for line in lines) == sorted(cell_names())
    assert [line.split("]")[0] for line in lines] == ["[1/4", "[2/4", "[3/4", "[4/4"]


def test_ray_workers_import_the_plugin_the_cell_config_records(inputs, cluster, tmp_path):
    example = REPO / "examples" / "plugins" / "outside_arm.py"
    out = tmp_path / "results"
    cell = out / "two-phase--outside-sdpo+unrelated--s0"
    result = run_in(cluster, ["sweep", "--plugin", str(example), "--personas", str(inputs["persona"]),
                              "--learners", "outside-sdpo+unrelated", "--seeds", "0", "--config", str(inputs["config"]),
                              "--interactions", "16", "--out", str(out), "--executor", "ray",
                              "--address", cluster.address, "--quiet"])
    assert result.returncode == 0, result.stderr
    assert sweep_record(out)["runs"][cell.name]["node"]["pid"] != os.getpid()  # built on a worker
    manifest = json.loads((cell / "manifest.json").read_text())
    assert manifest["status"] == "complete" and manifest["feedback"] == "unrelated"
    assert manifest["config"]["plugins"] == [str(example)]


# Runs in the cluster's namespace next to the sweep: polls Ray's task state and SIGKILLs the
# worker of the first running cell whose run has checkpointed between interactions LOW and
# HIGH (so it is mid-cell, with a checkpoint to resume from), then prints what it killed.
KILLER = """
import os, signal, sys, time
from pathlib import Path
import ray
from ray.util.state import list_tasks
from simbench.runner.executors.base import checkpoint_position
address, out, prefix, low, high = sys.argv[1], Path(sys.argv[2]), sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
ray.init(address=address, logging_level="ERROR", log_to_driver=False)
deadline = time.monotonic() + float(sys.argv[6])
while time.monotonic() < deadline:
    for task in list_tasks(filters=[("state", "=", "RUNNING")], detail=True):
        name = (task.name or "")[len(prefix):]
        if not task.name.startswith(prefix) or not task.worker_pid:
            continue
        position = checkpoint_position(out / name)
        if position is not None and low <= position <= high:
            os.kill(task.worker_pid, signal.SIGKILL)
            print(name, task.worker_pid, position)
            sys.exit(0)
    time.sleep(0.1)
sys.exit("no running cell reached a checkpoint in time")
"""


def test_killing_the_worker_that_runs_a_cell_ends_with_that_cell_resumed_and_complete(
        inputs, local_logs, cluster, tmp_path):
    out = tmp_path / "results"
    with sweep_in_background(cluster, sweep_args(inputs, out, "--executor", "ray", "--address",
                                                 cluster.address)) as sweep:
        killer = subprocess.run(
            [*cluster.prefix, sys.executable, "-c", KILLER, cluster.address, str(out), CELL_PREFIX, "2",
             str(SETTINGS["interactions"] // 2), str(SWEEP_TIMEOUT)],
            cwd=REPO, env=cluster.env, capture_output=True, text=True, timeout=SWEEP_TIMEOUT + 60,
        )
        assert killer.returncode == 0, killer.stderr[-3000:]
        victim, pid, killed_at = killer.stdout.split()
        _, stderr = sweep.communicate(timeout=SWEEP_TIMEOUT)
    assert sweep.returncode == 0, stderr

    run = sweep_record(out)["runs"][victim]
    assert run["status"] == "complete"
    assert run["node"]["pid"] != int(pid)  # Ray ran it again in a new worker ...
    assert run["resumed_from"] >= int(killed_at)  # ... from its checkpoint, not from scratch
    assert logs_of(out) == local_logs  # nothing lost, nothing duplicated, in any cell


def test_ctrl_c_stops_every_cell_resumably_and_rerunning_the_command_continues_the_sweep(
        inputs, local_logs, cluster, tmp_path):
    out = tmp_path / "results"
    args = sweep_args(inputs, out, "--executor", "ray", "--address", cluster.address)
    with sweep_in_background(cluster, args) as sweep:
        deadline = time.monotonic() + SWEEP_TIMEOUT
        while not any((checkpoint_position(out / name) or 0) >= 2 for name in cell_names()):
            assert time.monotonic() < deadline and sweep.poll() is None, "no cell got going"
            time.sleep(0.05)
        sweep.send_signal(signal.SIGINT)
        _, stderr = sweep.communicate(timeout=SWEEP_TIMEOUT)
    assert sweep.returncode == 130, stderr

    runs = sweep_record(out)["runs"]
    assert "complete" not in {runs[name]["status"] for name in cell_names()}
    # A cell that was running finished its batch, checkpointed there and said where it stopped.
    stopped = {name: int(re.match(r"stopped at interaction (\d+)", runs[name]["message"]).group(1))
               for name in cell_names() if runs[name]["message"].startswith("stopped at interaction")}
    assert stopped, runs
    assert all(checkpoint_position(out / name) == t for name, t in stopped.items())

    rerun = run_in(cluster, args)
    assert rerun.returncode == 0, rerun.stderr
    assert logs_of(out) == local_logs
    runs = sweep_record(out)["runs"]
    assert all(runs[name]["resumed_from"] == t for name, t in stopped.items())


def test_an_address_where_no_cluster_answers_is_one_line_and_exit_2(inputs, tmp_path):
    out = tmp_path / "results"
    address = f"127.0.0.1:{free_port()}"
    result = H.run_cli(*sweep_args(inputs, out, "--executor", "ray", "--address", address), cwd=REPO)
    assert result.returncode == 2
    assert result.stderr.startswith(f"error: --address: no Ray cluster answers at {address}")
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert not out.exists()
