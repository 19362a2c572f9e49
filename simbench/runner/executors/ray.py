"""The Ray executor (`pip install 'simbench-online[ray]'`): every sweep cell is a Ray task.

Each task declares `--cpus-per-run` CPUs (its torch thread count) and `--gpus-per-run` GPUs
(fractions let several small-model runs share one GPU), and Ray places it on any node with
room. Workers write into the same results folder as the local executor, so that folder and
the working directory must be mounted at the same path on every node; a worker that cannot
see or write them fails with one line. A worker that dies is retried by Ray and continues
from the cell's last checkpoint through the resume path; failures of the run itself (user
simulator, input, numerics) are returned as results, never retried. Ray is imported only here.
"""

from __future__ import annotations

import logging
import math
import os
import socket
import tempfile
from pathlib import Path
from typing import Any, Callable, Iterator, Optional, Sequence

from simbench.distribution import install_hint
from simbench.errors import InputError, missing_package
from simbench.runner.executors.base import CellReport, SweepDisplay, input_error_report, run_cell, this_node
from simbench.runner.sweep import SWEEP_FILE

INSTALL_HINT = install_hint("ray")
TASK_PREFIX = "simbench-cell:"  # task name = prefix + cell name, as Ray's state API lists it
MAX_RETRIES = 3  # worker deaths per cell before Ray gives up (run failures are never retried)
POLL_SECONDS = 0.5  # how often the driver wakes from ray.wait, so Ctrl-C is handled promptly


def import_ray() -> Any:
    """The `ray` module, or a one-line InputError with the install command."""
    try:
        import ray
    except ImportError as err:
        raise missing_package("--executor ray", "Ray", err.msg, INSTALL_HINT) from None
    return ray


class RayExecutor:
    """Every cell a Ray task with declared CPUs/GPUs, placed on any node of a Ray cluster."""

    name = "ray"
    OPTIONS = ("address", "cpus_per_run", "gpus_per_run")

    def __init__(self, address: Optional[str] = None, cpus_per_run: float = 1.0,
                 gpus_per_run: Optional[float] = None) -> None:
        if not cpus_per_run > 0:
            raise InputError("--cpus-per-run", f"must be above 0, got {cpus_per_run}")
        if gpus_per_run is not None and not gpus_per_run >= 0:
            raise InputError("--gpus-per-run", f"must be 0 or more, got {gpus_per_run}")
        if gpus_per_run is not None and gpus_per_run > 1 and not float(gpus_per_run).is_integer():
            raise InputError("--gpus-per-run", f"above 1 must be a whole number, got {gpus_per_run}")
        self.ray = import_ray()
        self.address = address
        self.cpus_per_run = float(cpus_per_run)
        self.gpus_per_run = gpus_per_run
        self.cluster: dict[str, Any] = {}

    def open(self, cells: Sequence[Any]) -> None:
        self.gpus_per_run = gpus_for(self.gpus_per_run, {cell.config.device for cell in cells})
        check_address(self.address)
        connect(self.ray, self.address)
        self.cluster = cluster_summary(self.ray)
        check_fits(self.ray, self.cpus_per_run, self.gpus_per_run)

    def describe(self) -> dict[str, Any]:
        return {"name": self.name, "address": self.address, "cpus_per_run": self.cpus_per_run,
                "gpus_per_run": self.gpus_per_run, "max_retries": MAX_RETRIES, "cluster": self.cluster}

    def run(
        self, cells: Sequence[Any], parts_factory: Optional[Callable[[Any], Any]], display: SweepDisplay,
    ) -> Iterator[CellReport]:
        ray = self.ray
        task = ray.remote(cell_task)
        threads = max(1, math.floor(self.cpus_per_run))
        workdir = os.getcwd()
        pending: dict[Any, Any] = {}
        for cell in cells:
            ref = task.options(
                name=TASK_PREFIX + cell.name, num_cpus=self.cpus_per_run, num_gpus=self.gpus_per_run or 0,
                max_retries=MAX_RETRIES, retry_exceptions=False,
            ).remote(cell, parts_factory, workdir, threads)
            pending[ref] = cell
            display.start_run(cell.name, "resuming on Ray" if cell.state == "resume" else "queued on Ray")
        try:
            yield from self._collect(pending)
        except KeyboardInterrupt:
            yield from self._cancel(pending)

    def _collect(self, pending: dict[Any, Any]) -> Iterator[CellReport]:
        """Reports in completion order until nothing is pending."""
        while pending:
            done, _ = self.ray.wait(list(pending), num_returns=1, timeout=POLL_SECONDS)
            for ref in done:
                yield self._report(ref, pending.pop(ref))

    def _cancel(self, pending: dict[Any, Any]) -> Iterator[CellReport]:
        """First Ctrl-C: cancel every task; a running cell gets the interrupt a local run gets
        (finish the batch, checkpoint, stop). A second Ctrl-C kills them at once; either way
        each cell keeps its last checkpoint and the next invocation resumes it."""
        for ref in pending:
            self.ray.cancel(ref)
        try:
            yield from self._collect(pending)
        except KeyboardInterrupt:
            for ref in pending:
                self.ray.cancel(ref, force=True)
            for cell in pending.values():
                yield CellReport(cell.name, "interrupted", "stopped by a second Ctrl-C; rerun the sweep to resume it")

    def _report(self, ref: Any, cell: Any) -> CellReport:
        exceptions = self.ray.exceptions
        try:
            return self.ray.get(ref)
        except exceptions.TaskCancelledError:
            return CellReport(cell.name, "interrupted", "cancelled by Ctrl-C; rerun the sweep to continue it")
        except exceptions.RayTaskError as exc:  # a bug inside the run: its traceback is in Ray's worker log
            cause = getattr(exc, "cause", None) or exc
            return CellReport(cell.name, "failed", f"{type(cause).__name__}: {first_line(cause)}")
        except exceptions.RayError as exc:  # the worker or its node died more than MAX_RETRIES times
            return CellReport(cell.name, "failed",
                              f"{type(exc).__name__}: {first_line(exc)}; rerun the sweep to resume it")

    def close(self) -> None:
        if self.ray.is_initialized():
            self.ray.shutdown()


def cell_task(cell: Any, parts_factory: Optional[Callable[[Any], Any]], workdir: str, threads: int) -> CellReport:
    """One cell on a Ray worker, run from the driver's working directory (so relative
    persona, model and results paths mean what they meant there), with `threads` torch threads."""
    import ray
    import torch

    context = ray.get_runtime_context()
    node = {**this_node(), "node_id": context.get_node_id(), "ip": ray.util.get_node_ip_address()}
    label = f"{node['host']} ({node['ip']})"
    torch.set_num_threads(threads)
    previous = os.getcwd()
    try:
        try:
            os.chdir(workdir)
        except OSError as err:
            raise InputError("--executor ray", f"node {label} cannot enter the sweep's working directory {workdir} "
                             f"({err.strerror})", "run the sweep from a folder every node mounts at the same path") from None
        check_results_folder(cell.run_dir.parent, label)
        return run_cell(cell, parts_factory, node=node)
    except InputError as exc:
        return input_error_report(cell.name, exc, node)
    finally:
        os.chdir(previous)


def check_results_folder(out: Path, label: str) -> None:
    """The results folder must be the driver's (its sweep.json is there) and writable here."""
    hint = "put the results folder on a file system every node mounts at the same path"
    if not (out / SWEEP_FILE).is_file():
        raise InputError(str(out), f"node {label} does not see the sweep's results folder (no {SWEEP_FILE})", hint)
    try:
        with tempfile.NamedTemporaryFile(dir=out, prefix=".write-check-"):
            pass
    except OSError as err:
        raise InputError(str(out), f"node {label} cannot write the results folder ({err.strerror})", hint) from None


def gpus_for(gpus_per_run: Optional[float], devices: set[str]) -> float:
    """GPUs each task asks for: given, or 1 for CUDA runs and 0 otherwise.

    Ray hides every GPU from a task that asks for none and renumbers the ones it hands out, so
    a CUDA run must ask for GPUs and must say `cuda`, not a fixed index.
    """
    cuda = {d for d in devices if d.startswith("cuda")}
    fixed = sorted(d for d in cuda if d != "cuda")
    if fixed:
        raise InputError("--device", f"{fixed[0]} names one GPU, but Ray chooses each run's GPUs",
                         "use --device cuda with --executor ray")
    if gpus_per_run is None:
        return 1.0 if cuda else 0.0
    if cuda and gpus_per_run == 0:
        raise InputError("--gpus-per-run", "is 0 but --device is cuda (Ray hides GPUs from tasks that ask for none)",
                         "ask for a share of a GPU, e.g. --gpus-per-run 0.25")
    if not cuda and gpus_per_run > 0:
        raise InputError("--gpus-per-run", f"asks for {gpus_per_run} GPUs but --device is {min(devices)}",
                         "pass --device cuda, or leave --gpus-per-run out")
    return float(gpus_per_run)


def check_address(address: Optional[str]) -> None:
    """A HOST:PORT address must answer before Ray is asked: an unreachable one fails in one
    line at once instead of after Ray's connection retries."""
    if address is None or address in ("auto", "local") or address.startswith("ray://"):
        return
    host, sep, port = address.rpartition(":")
    if not sep or not host or not port.isdigit():
        raise InputError("--address", f"{address!r} is not HOST:PORT",
                         "e.g. 10.0.0.5:6379 (the head node's `ray start --head` port), or auto")
    try:
        socket.create_connection((host.strip("[]"), int(port)), timeout=5).close()
    except OSError as err:
        raise InputError("--address", f"no Ray cluster answers at {address} ({err.strerror or err})",
                         "start one with `ray start --head`, or fix the address") from None


def connect(ray: Any, address: Optional[str]) -> None:
    """Join the cluster at `address`, or start a one-machine Ray when it is None."""
    try:
        ray.init(address=address, include_dashboard=False, log_to_driver=False,
                 logging_level=logging.ERROR, configure_logging=True)
    except Exception as exc:  # Ray raises ConnectionError, RuntimeError, ValueError, ... here
        where = f"at {address}" if address else "on this machine"
        raise InputError("--address", f"cannot connect to Ray {where}: {first_line(exc)}") from None


def cluster_summary(ray: Any) -> dict[str, Any]:
    alive = [node for node in ray.nodes() if node.get("Alive")]
    total = ray.cluster_resources()
    return {"nodes": len(alive), "cpus": total.get("CPU", 0), "gpus": total.get("GPU", 0)}


def check_fits(ray: Any, cpus: float, gpus: float) -> None:
    """A task larger than every node would wait forever: refuse it up front."""
    nodes = [node["Resources"] for node in ray.nodes() if node.get("Alive")]
    if any(node.get("CPU", 0) >= cpus and node.get("GPU", 0) >= gpus for node in nodes):
        return
    largest = max(nodes, key=lambda r: (r.get("GPU", 0), r.get("CPU", 0)), default={})
    flag = "--gpus-per-run" if gpus > largest.get("GPU", 0) else "--cpus-per-run"
    raise InputError(flag, f"each run asks for {cpus:g} CPUs and {gpus:g} GPUs, but no node of the cluster has "
                     f"that many (largest: {largest.get('CPU', 0):g} CPUs, {largest.get('GPU', 0):g} GPUs)")


def first_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return lines[0] if lines else type(exc).__name__
