"""A real two-node Ray cluster on the loopback interface for tests (importable as `raycluster`).

`ray start --head` and a second `ray start --address` (a worker node: its own raylet and
workers) each run with `--block` in a process group of their own; `stop` ends exactly those
two groups (never `ray stop`, which would end every Ray on the machine).

Every process of the cluster and every client runs inside a network namespace of its own
(`ip netns`, root only) whose one interface is loopback: Ray rewrites "127.0.0.1" to the
machine's outward-facing address before it connects, and inside the namespace that address
does not exist, so all traffic stays on 127.0.0.1. The head runs Ray's dashboard process bound
to 127.0.0.1 on a free port: Ray 2.x serves task state (a task's worker pid, which the tests
kill) only from it, and with `--include-dashboard false` it loads none of its state modules.
"""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

START_TIMEOUT = 300.0  # two raylets, a GCS and a dashboard on a loaded 2-core machine


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def ray_cli() -> list[str]:
    """`ray` of this interpreter's environment."""
    return [sys.executable, "-c", "import sys; from ray.scripts.scripts import main; sys.exit(main())"]


def netns_available() -> bool:
    """Whether this process may create network namespaces (root with iproute2)."""
    if shutil.which("ip") is None or os.geteuid() != 0:
        return False
    return subprocess.run(["unshare", "-n", "true"], capture_output=True).returncode == 0


class LoopbackNamespace:
    """A named network namespace with only `lo` up; `prefix` runs a command inside it."""

    def __init__(self) -> None:
        self.name = f"simbench-ray-{os.getpid()}-{free_port()}"
        self.prefix = ["ip", "netns", "exec", self.name]

    def __enter__(self) -> "LoopbackNamespace":
        subprocess.run(["ip", "netns", "add", self.name], check=True, capture_output=True)
        subprocess.run([*self.prefix, "ip", "link", "set", "lo", "up"], check=True, capture_output=True)
        return self

    def pids(self) -> list[int]:
        listed = subprocess.run(["ip", "netns", "pids", self.name], capture_output=True, text=True).stdout
        return [int(pid) for pid in listed.split()]

    def __exit__(self, *exc: object) -> None:
        """SIGKILL what is still running in the namespace (only this fixture's processes can be
        there: Ray workers outlive their raylet by a few seconds), then remove it."""
        for pid in self.pids():
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        subprocess.run(["ip", "netns", "delete", self.name], capture_output=True)


class LocalRayCluster:
    """A head node and one worker node, `cpus_per_node` CPUs each, on 127.0.0.1 inside the
    network namespace whose command prefix is `prefix`."""

    def __init__(self, env: dict[str, str], prefix: list[str], cpus_per_node: int = 1) -> None:
        self.prefix = prefix
        # The environment of the cluster and of every client. Token authentication is set
        # explicitly: left unset, Ray turns it on or off by whether ~/.ray/auth_token exists
        # (a local `ray.init()` writes one), and then nodes and clients disagreed here.
        self.env = {**env, "RAY_USAGE_STATS_ENABLED": "0", "RAY_AUTH_MODE": "token",
                    "RAY_AUTH_TOKEN": secrets.token_hex(32)}
        self.cpus = cpus_per_node
        self.port = free_port()
        self.address = f"127.0.0.1:{self.port}"
        # Ray puts unix sockets under its temp dir, whose paths may not exceed ~107 bytes.
        self.temp_dir = Path(tempfile.mkdtemp(prefix="ray-", dir="/tmp"))
        self.processes: list[subprocess.Popen] = []

    def _start(self, *args: str) -> None:
        log = open(self.temp_dir / f"node{len(self.processes)}.log", "wb")
        ports = [(flag, str(free_port())) for flag in (
            "--node-manager-port", "--object-manager-port", "--dashboard-agent-listen-port",
            "--dashboard-agent-grpc-port", "--runtime-env-agent-port", "--metrics-export-port")]
        common = ["--block", "--node-ip-address", "127.0.0.1", "--num-cpus", str(self.cpus), "--num-gpus", "0",
                  "--object-store-memory", str(80 * 1024 * 1024), "--disable-usage-stats",
                  *[item for pair in ports for item in pair]]
        self.processes.append(subprocess.Popen(
            [*self.prefix, *ray_cli(), "start", *args, *common], env=self.env, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True,
        ))

    def start(self) -> "LocalRayCluster":
        self._start("--head", "--port", str(self.port), "--temp-dir", str(self.temp_dir),
                    "--include-dashboard", "true", "--dashboard-host", "127.0.0.1",
                    "--dashboard-port", str(free_port()))
        self._wait_for_nodes(1)
        self._start("--address", self.address)
        self._wait_for_nodes(2)
        return self

    def _wait_for_nodes(self, count: int) -> None:
        """Poll from a short-lived driver until `count` nodes are alive."""
        probe = ("import ray, sys; ray.init(address=sys.argv[1], logging_level='ERROR', log_to_driver=False); "
                 "print(sum(1 for n in ray.nodes() if n.get('Alive')))")
        deadline = time.monotonic() + START_TIMEOUT
        last = ""
        while time.monotonic() < deadline:
            for process in self.processes:
                if process.poll() is not None:
                    raise RuntimeError(f"a Ray node exited with {process.returncode}: {self.logs()}")
            try:
                result = subprocess.run([*self.prefix, sys.executable, "-c", probe, self.address], env=self.env,
                                        capture_output=True, text=True, timeout=120)
            except subprocess.TimeoutExpired:
                last = "the probe driver timed out"
                continue
            if result.returncode == 0 and result.stdout.strip().splitlines()[-1:] == [str(count)]:
                return
            last = (result.stdout + result.stderr).strip()[-1500:]
            time.sleep(1.0)
        raise RuntimeError(f"the Ray cluster did not reach {count} nodes in {START_TIMEOUT:.0f} s; "
                           f"last probe: {last}; node logs: {self.logs()}")

    def logs(self) -> str:
        return " | ".join(p.read_text(errors="replace")[-2000:] for p in sorted(self.temp_dir.glob("node*.log")))

    def stop(self) -> None:
        """End the worker node, then the head: each `ray start --block` and its process group
        (raylet, GCS). SIGTERM first so Ray cleans up; SIGKILL after 5 s (the head would
        otherwise drain for up to 30 s). Workers have groups of their own: the namespace ends them."""
        for process in reversed(self.processes):
            _end_group(process, wait=5.0)
        shutil.rmtree(self.temp_dir, ignore_errors=True)


def _end_group(process: subprocess.Popen, wait: float) -> None:
    """SIGTERM the process's group, wait, then SIGKILL whatever of the group is left."""
    _signal_group(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=wait)
    except subprocess.TimeoutExpired:
        pass
    _signal_group(process.pid, signal.SIGKILL)
    process.wait(timeout=10)


def _signal_group(pgid: int, signum: int) -> None:
    try:
        os.killpg(pgid, signum)
    except ProcessLookupError:
        pass
