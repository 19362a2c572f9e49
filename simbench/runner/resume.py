"""What `--resume` checks before it continues a run, all before a model is loaded.

A resume continues the run only when it would produce the run the manifest describes: the
same settings (every non-secret option), the same persona content and prompt pools, and a
checkpoint whose logs hold exactly the records of its position. Anything else is one line
naming what changed or what is broken, because continuing silently would end in a folder
marked `complete` whose manifest describes another run.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeGuard

from simbench.errors import InputError
from simbench.logs.invariants import LOGS, check_run_invariants, refuse_if_violated
from simbench.logs.run_folder import read_run
from simbench.prompts import pool_hash
from simbench.safe_load import TEXT_BYTES, iter_jsonl, load_json, read_bounded

_CHECKPOINT = re.compile(r"^ckpt-\d{7}$")
HINT = "resume with the original flags and files, or start a new --out folder"


@dataclass(frozen=True)
class Checkpoint:
    """A validated checkpoint: its folder, position, log lengths and failure counter."""

    folder: Path
    t: int
    log_sizes: dict[str, int]
    failed_updates: int


def config_diff(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    """'field: old -> new' for every differing setting; option dicts are compared per key."""
    out = []
    for key in sorted(set(old) | set(new)):
        a, b = old.get(key), new.get(key)
        if a == b:
            continue
        if isinstance(a, dict) and isinstance(b, dict):
            out += [f"{key}.{k}: {a.get(k)!r} -> {b.get(k)!r}" for k in sorted(set(a) | set(b)) if a.get(k) != b.get(k)]
        else:
            out.append(f"{key}: {a!r} -> {b!r}")
    return out


def recorded_plugins(run_dir: Path) -> list[str]:
    """The plugins a run's config records, imported before `--resume` rebuilds the config so
    its names resolve; none when the manifest is missing or unreadable (the resume check then
    says why)."""
    try:
        plugins = load_json(run_dir / "manifest.json", kind=dict).get("config", {}).get("plugins", [])
    except (InputError, AttributeError):
        return []
    return [p for p in plugins if isinstance(p, str)] if isinstance(plugins, list) else []


def read_manifest(run_dir: Path) -> dict[str, Any]:
    """The run's manifest, which must exist and hold a `config` mapping."""
    path = run_dir / "manifest.json"
    if not path.exists():
        raise InputError("--resume", f"no run to resume in {run_dir} (manifest.json missing)")
    if not isinstance(load_json(path, kind=dict).get("config"), dict):
        raise InputError(f"{path}: config", "missing or not a mapping", "the manifest was edited; start a new --out folder")
    return read_run(run_dir).manifest.to_json()  # typed and validated by the one reader


def check_resume(inputs: Any, run_dir: Path) -> tuple[dict[str, Any], Checkpoint | None]:
    """(manifest, latest checkpoint) of the run in `run_dir`, once everything matches."""
    manifest = read_manifest(run_dir)
    diff = config_diff(manifest["config"], inputs.config.for_resume_check())
    if diff:
        raise InputError("--resume", f"config differs from the run in {run_dir}: {'; '.join(diff)}", HINT)
    changed = changed_inputs(manifest, inputs)
    if changed:
        raise InputError("--resume", f"{changed} changed since the run in {run_dir} started", HINT)
    checkpoint = read_checkpoint(run_dir, inputs.interactions)
    if checkpoint is not None:
        logs = {name: [r for _, r in iter_jsonl(run_dir / f"{name}.jsonl", data=_prefix(run_dir, name, checkpoint))]
                for name in LOGS}
        refuse_if_violated(check_run_invariants(manifest, logs, checkpoint_t=checkpoint.t), run_dir,
                           "the logs do not match the checkpoint; start a new --out folder")
    return manifest, checkpoint


def changed_inputs(manifest: dict[str, Any], inputs: Any) -> str:
    """What of the persona and prompt pools differs from the manifest ("" when nothing)."""
    current = {
        f"persona {inputs.persona_path} (content hash)": (_get(manifest, "persona", "content_hash"),
                                                          inputs.persona.content_hash()),
        "the training prompt pool": (_get(manifest, "prompts", "train", "sha256"), pool_hash(inputs.train)),
        "the probe prompt pool": (_get(manifest, "prompts", "probe", "sha256"), pool_hash(inputs.probe)),
        "the general questions": (_get(manifest, "prompts", "general", "ids"), [q.id for q in inputs.general]),
    }
    for what, (stored, now) in current.items():
        if stored != now:
            shown = (f" ({str(stored)[:12]} -> {str(now)[:12]})" if isinstance(stored, str) else "")
            return what + shown
    return ""


def read_checkpoint(run_dir: Path, interactions: int) -> Checkpoint | None:
    """The checkpoint named in checkpoints/LATEST, validated; None when there is none yet."""
    root = run_dir / "checkpoints"
    latest = root / "LATEST"
    if not latest.exists():
        return None
    where = str(latest)
    name = read_bounded(latest, where, 256).decode("utf-8", "replace").strip()
    if not _CHECKPOINT.match(name) or not (root / name).is_dir():
        raise InputError(where, f"names {name[:40]!r}, not a checkpoint folder of this run", HINT)
    state_path = root / name / "state.json"
    state = load_json(state_path, kind=dict, max_bytes=TEXT_BYTES)
    t, sizes, failed = state.get("t"), state.get("log_sizes"), state.get("failed_updates", 0)
    if not _count(t) or t > interactions:
        raise InputError(f"{state_path}: t", f"must be an integer in 0..{interactions}, got {t!r}", HINT)
    if not isinstance(sizes, dict) or not all(k in LOGS and _count(v) for k, v in sizes.items()):
        raise InputError(f"{state_path}: log_sizes", "must map log names to byte lengths", HINT)
    if not _count(failed):
        raise InputError(f"{state_path}: failed_updates", f"must be an integer >= 0, got {failed!r}", HINT)
    for log, size in sizes.items():
        path = run_dir / f"{log}.jsonl"
        actual = path.stat().st_size if path.is_file() else 0
        if size > actual:
            raise InputError(str(path), f"is {actual} bytes, shorter than the {size} the checkpoint recorded",
                             "the log was cut or replaced; start a new --out folder")
    return Checkpoint(root / name, t, dict(sizes), failed)


def _prefix(run_dir: Path, log: str, checkpoint: Checkpoint) -> bytes:
    """The bytes of a log up to the checkpoint (what a resume keeps); they end at a record."""
    size = checkpoint.log_sizes.get(log, 0)
    path = run_dir / f"{log}.jsonl"
    if not size:
        return b""
    with open(path, "rb") as handle:
        data = handle.read(size)
    if not data.endswith(b"\n"):
        raise InputError(str(path), f"the checkpoint's length {size} ends inside a record", HINT)
    return data


def _count(value: object) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _get(value: Any, *keys: str) -> Any:
    """value[k1][k2]...; None where a level is missing or not a mapping (a hand-edited manifest)."""
    for key in keys:
        value = value.get(key) if isinstance(value, dict) else None
    return value
