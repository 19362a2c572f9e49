"""The run layer: a run folder with a manifest, streamed logs and resumable checkpoints.

Every record is appended and flushed as it happens. A checkpoint (learner state + the byte
length of every log) is written atomically at batch boundaries; `--resume` loads the latest
one, cuts the logs back to those lengths (dropping anything written after it, torn lines
included) and replays from there. Per-call derived seeds make the replay identical.
"""

from __future__ import annotations

import ctypes
import logging
import os
import resource
import shutil
import signal
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator

from sdpo.files import umask_modes
from simbench.config import RunConfig
from simbench.errors import InputError, NumericalError, UserSimulatorError
from simbench.logs.invariants import LOGS
from simbench.logs.io import JsonlWriter, truncate, write_atomic, write_json
from simbench.logs.run_folder import read_run
from simbench.logs.schema import Manifest, RunStatus, SignalRecord
from simbench.redaction import resolved_secrets, scrubber
from simbench.runner.build import Inputs, resolve_inputs
from simbench.runner.episode import (
    BatchDone,
    EpisodeSpec,
    Event,
    InteractionDone,
    ProbeDone,
    UpdateDone,
    run_episode,
)
from simbench.runner.lock import LOCK_FILE, FolderLock
from simbench.runner.parts import build_parts
from simbench.runner.preflight import check_out_dir, folder_is_empty, preflight
from simbench.runner.provenance import manifest_for
from simbench.runner.resume import Checkpoint, check_resume, read_checkpoint

KEEP_CHECKPOINTS = 2

log = logging.getLogger(__name__)


@dataclass
class RunResult:
    """How a run ended: complete, interrupted (Ctrl-C) or stopped by a failure."""

    run_dir: Path
    status: RunStatus
    t: int
    message: str = ""
    seconds: float = 0.0


@dataclass
class _State:
    t: int = 0
    failed_updates: int = 0
    stop_requested: bool = False
    sizes: dict[str, int] = field(default_factory=dict)
    scrub: Callable[[Any], Any] = field(default=lambda value: value, repr=False)


def default_run_dir(config: RunConfig, persona_id: str) -> Path:
    return Path("runs") / f"{persona_id}--{config.learner}--s{config.seed}"


def prepare(config: RunConfig, out: Path | None, resume: bool) -> tuple[Inputs, Path]:
    """Validate all inputs, settings and the output folder; nothing is created or loaded here."""
    inputs = resolve_inputs(config)
    run_dir = out or default_run_dir(config, inputs.persona.id)
    check_out_dir(run_dir)
    preflight(inputs)
    FolderLock(run_dir).ensure_free()
    check_folder(inputs, run_dir, resume)
    return inputs, run_dir


def check_folder(inputs: Inputs, run_dir: Path, resume: bool) -> tuple[dict[str, Any], Checkpoint | None]:
    """A new run needs an empty folder; a resume, a run that matches (`resume.check_resume`)."""
    refuse_links(run_dir)
    if resume:
        return check_resume(inputs, run_dir)
    if not folder_is_empty(run_dir):
        raise InputError(
            "--out", f"{run_dir} already holds files", "pass --resume to continue it or choose a new --out"
        )
    return {}, None


def refuse_links(run_dir: Path, flag: str = "--out") -> None:
    """Refuse a symbolic link at any path the run writes (the lock, logs, manifest, anything
    under checkpoints/): in a shared folder one could point at another file, which appending,
    truncating or locking would change. Checked before anything is written."""
    paths = [run_dir / name for name in (LOCK_FILE, "manifest.json", "checkpoints")]
    paths += [run_dir / f"{name}.jsonl" for name in LOGS]
    checkpoints = run_dir / "checkpoints"
    if checkpoints.is_dir() and not checkpoints.is_symlink():
        for parent, folders, files in os.walk(checkpoints):
            paths += [Path(parent) / name for name in folders + files]
    for path in paths:
        if path.is_symlink():
            raise InputError(flag, f"{path} is a symbolic link",
                             "simbench writes only regular files in a run folder; remove the link "
                             "or choose another --out")


def execute(
    config: RunConfig,
    out: Path | None = None,
    resume: bool = False,
    on_event: Callable[[Event, dict[str, Any]], None] | None = None,
    parts_factory: Callable[[Inputs], Any] | None = None,
    stop: Callable[[], bool] | None = None,
) -> RunResult:
    """Run (or resume) one episode into a run folder; returns how it ended.

    The folder is locked for the whole run (`runner.lock`): a second writer is refused before
    it loads anything, and the folder checks are repeated under the lock. `stop` is asked at
    every batch end; True acts as a Ctrl-C does (checkpoint, then stop as interrupted): a
    population stops its other members this way when one fails.
    """
    inputs, run_dir = prepare(config, out, resume)
    for warning in inputs.warnings():
        log.warning("warning: %s", warning)
    with FolderLock(run_dir) as lock:
        manifest, resume_from = check_folder(inputs, run_dir, resume)
        if resume and manifest.get("status") == RunStatus.COMPLETE:
            return RunResult(run_dir, RunStatus.COMPLETE, inputs.interactions, "already complete")
        parts = (parts_factory or build_parts)(inputs)
        lock.keep_folder()
        return _run(inputs, run_dir, parts, manifest, resume_from, on_event, stop)


def _run(inputs: Inputs, run_dir: Path, parts: Any, manifest: dict[str, Any],
         resume_from: Checkpoint | None, on_event: Callable[[Event, dict[str, Any]], None] | None,
         stop: Callable[[], bool] | None = None) -> RunResult:
    """The episode loop with its logs, checkpoints and end states (the folder is locked)."""
    config = inputs.config
    scrub = scrubber(resolved_secrets(config.user, config.user_options)) or (lambda value: value)
    spec = EpisodeSpec(
        interactions=inputs.interactions,
        batch_size=config.batch_size,
        probe_every=config.probe_every,
        turns=config.turns,
        seed=config.seed,
    )
    state = _State(scrub=scrub)
    if resume_from is not None:
        state = restore(run_dir, parts.learner, resume_from, scrub)
        # Until this session finishes, the run is running again, not in its last end state.
        write_json(run_dir / "manifest.json", scrub({**manifest, "status": RunStatus.RUNNING.value}))
    else:
        for name in LOGS:
            truncate(run_dir / f"{name}.jsonl", 0)
        write_json(run_dir / "manifest.json", scrub(manifest_for(inputs).to_json()))
    writers = {name: JsonlWriter(run_dir / f"{name}.jsonl", scrub) for name in LOGS}
    state.sizes = sizes_of(writers)
    if not (run_dir / "checkpoints" / "LATEST").exists():
        checkpoint(run_dir, parts.learner, writers, state)
    every = config.checkpoint_every or config.probe_every
    started = time.perf_counter()
    with _graceful_interrupt(state):
        try:
            for event in run_episode(parts, spec, start=state.t):
                record(event, writers)
                if on_event:
                    on_event(event, {"t": state.t, "interactions": spec.interactions})
                if isinstance(event, UpdateDone):
                    state.failed_updates = state.failed_updates + 1 if event.record.skipped else 0
                if not isinstance(event, BatchDone):
                    continue
                state.t, state.sizes = event.t, sizes_of(writers)
                if stop is not None and stop():
                    state.stop_requested = True
                release_free_memory()
                if state.failed_updates >= config.max_failed_updates:
                    checkpoint(run_dir, parts.learner, writers, state)
                    message = (
                        f"{state.failed_updates} consecutive updates were skipped (non-finite "
                        f"loss or gradient) up to interaction {event.t}; lower the learning rate"
                    )
                    finish(run_dir, RunStatus.NUMERICAL_ERROR, state, started, message, "numerical")
                    raise NumericalError(message)
                if event.t % every == 0 or event.t == spec.interactions or state.stop_requested:
                    checkpoint(run_dir, parts.learner, writers, state)
                if state.stop_requested and event.t < spec.interactions:
                    message = f"stopped at interaction {event.t}; continue with --resume"
                    return finish(run_dir, RunStatus.INTERRUPTED, state, started, message)
        except UserSimulatorError as exc:
            # The failed batch never reached the learner, so its state is that of the last
            # batch boundary: checkpoint there and drop the batch's partial records, so the
            # logs (and any report made from them) end at that boundary too.
            checkpoint(run_dir, parts.learner, writers, state)
            for name in LOGS:
                truncate(run_dir / f"{name}.jsonl", state.sizes[name])
            message = f"user simulator failed: {exc}; fix it and continue with --resume"
            return finish(run_dir, RunStatus.USER_ERROR, state, started, message, "user_simulator")
        finally:
            for writer in writers.values():
                writer.close()
    return finish(run_dir, RunStatus.COMPLETE, state, started, "")


def release_free_memory() -> None:
    """Hand freed heap pages back to the OS at batch ends (glibc only; a no-op elsewhere).

    Update batches allocate large tensors of varying size; glibc keeps the freed pages, so
    RSS drifted by hundreds of MB over long SmolLM2 episodes although live memory was flat
    (benchmarks/README.md). `malloc_trim(0)` costs milliseconds once per batch.
    """
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        return


def _manifest(run_dir: Path) -> dict[str, Any]:
    """The manifest as JSON data, read and validated by the one run-folder reader."""
    return read_run(run_dir).manifest.to_json()


def sizes_of(writers: dict[str, JsonlWriter]) -> dict[str, int]:
    return {name: writer.size() for name, writer in writers.items()}


def record(event: Event, writers: dict[str, JsonlWriter]) -> None:
    """Append an event's records to their logs."""
    if isinstance(event, InteractionDone):
        writers["interactions"].write(event.record)
    elif isinstance(event, UpdateDone):
        writers["updates"].write(event.record)
        for signal_record in event.token_signals:
            writers["signals"].write(SignalRecord(update=event.record.update, **signal_record))
    elif isinstance(event, ProbeDone):
        for probe_record in event.records:
            writers["probes"].write(probe_record)
        for general_record in event.general:
            writers["general"].write(general_record)
        for drift_record in event.drift:
            writers["drift"].write(drift_record)


def checkpoint(run_dir: Path, learner: Any, writers: dict[str, JsonlWriter], state: _State) -> None:
    """Atomically save learner state + log lengths at batch boundary state.t; keep two.

    `state.sizes` are the log lengths at that boundary, so records of a batch in progress
    are never part of a checkpoint.
    """
    root = run_dir / "checkpoints"
    name = f"ckpt-{state.t:07d}"
    tmp = root / f".tmp-{name}"
    _remove(tmp)
    tmp.mkdir(parents=True)
    learner.save(tmp / "learner")
    for writer in writers.values():
        writer.sync()
    write_json(tmp / "state.json", {"t": state.t, "log_sizes": state.sizes,
                                    "failed_updates": state.failed_updates})
    # Learners save through peft/torch/safetensors, some into private temporary folders
    # (0700, weights 0600): the checkpoint gets the modes the umask promises, as logs do.
    umask_modes(tmp)
    final = root / name
    _remove(final)
    tmp.rename(final)
    write_atomic(root / "LATEST", name + "\n")
    for old in sorted(p for p in root.glob("ckpt-*") if p.name != name)[:-(KEEP_CHECKPOINTS - 1)]:
        shutil.rmtree(old, ignore_errors=True)


def _remove(path: Path) -> None:
    """Remove a folder left by an earlier session; a symbolic link is removed, not followed."""
    if path.is_symlink():
        path.unlink()
    else:
        shutil.rmtree(path, ignore_errors=True)


def restore(run_dir: Path, learner: Any, checkpoint: Checkpoint | None = None,
            scrub: Callable[[Any], Any] | None = None) -> _State:
    """Load the latest checkpoint (validated by `resume.read_checkpoint` when not given) and
    cut every log back to its length at that point."""
    if checkpoint is None:
        checkpoint = read_checkpoint(run_dir, _manifest(run_dir).get("interactions", 0))
    if checkpoint is None:
        raise InputError("--resume", f"{run_dir} has no checkpoint to restore")
    learner.load(checkpoint.folder / "learner")
    for name in LOGS:
        truncate(run_dir / f"{name}.jsonl", checkpoint.log_sizes.get(name, 0))
    return _State(t=checkpoint.t, failed_updates=checkpoint.failed_updates,
                  scrub=scrub or (lambda value: value))


def finish(run_dir: Path, status: RunStatus, state: _State, started: float, message: str,
           kind: str = "") -> RunResult:
    """Record how the run ended in the manifest (atomically) and return it."""
    seconds = time.perf_counter() - started
    manifest_path = run_dir / "manifest.json"
    manifest = _manifest(run_dir)
    manifest["status"] = status.value
    manifest["position"] = state.t
    # ru_maxrss is the process's peak so far: in a sweep it covers earlier runs too.
    peak_mb = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    message = state.scrub(message)
    manifest.setdefault("sessions", []).append(
        {"status": status.value, "t": state.t, "seconds": round(seconds, 3),
         "peak_rss_mb": peak_mb, "message": message, "failure": kind}
    )
    manifest["peak_rss_mb"] = max(s["peak_rss_mb"] for s in manifest["sessions"])
    # validated against the typed Manifest before it replaces the file
    write_json(manifest_path, state.scrub(Manifest.model_validate(manifest).to_json()))
    return RunResult(run_dir, status, state.t, message, seconds)


@contextmanager
def _graceful_interrupt(state: _State) -> Iterator[None]:
    """First Ctrl-C: finish the batch, checkpoint and stop. A second one stops at once."""

    def handler(signum: int, frame: Any) -> None:
        if state.stop_requested:
            raise KeyboardInterrupt
        state.stop_requested = True

    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
