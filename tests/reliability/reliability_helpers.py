"""Helpers shared by the reliability tests: tiny model folders, CLI subprocesses, run-folder
comparison that ignores wall-clock fields, and a strict JSONL reader.

Importable by this unique name (a second `conftest` module name would be ambiguous).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
LOGS = ("interactions", "updates", "probes", "general", "signals", "drift")
# A special token of SmolLM2's tokenizer: text that mentions it maps to exactly this id.
POISON_TOKEN = "<jupyter_code>"
# Small enough for a few seconds per run, long enough for several batches and checkpoints.
TINY_RUN = {
    "interactions": 16,
    "batch_size": 2,
    "probe_every": 4,
    "probe_prompts": 2,
    "general_questions": 1,
    "max_new_tokens": 8,
}


def save_tiny_model(folder: Path, tokenizer: Any, poison: str | None = None) -> Path:
    """Write a random 1-layer Llama (+ tokenizer) that `--model folder` loads.

    With `poison`, that token's input embedding is NaN. The output head is untied first, so
    the model still scores (and never prefers) the token while any context holding it goes NaN.
    """
    import torch
    from tinymodels import make_tiny_llama

    model = make_tiny_llama(tokenizer, layers=1, hidden=32)
    if poison is not None:
        token_id = tokenizer.convert_tokens_to_ids(poison)
        assert tokenizer(poison, add_special_tokens=False)["input_ids"] == [token_id]
        head = model.get_output_embeddings()
        head.weight = torch.nn.Parameter(head.weight.detach().clone())
        head.weight.data[token_id] = 0.0
        model.config.tie_word_embeddings = False
        with torch.no_grad():
            model.get_input_embeddings().weight[token_id] = float("nan")
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


def write_run_config(path: Path, model_dir: Path, **overrides: Any) -> Path:
    """A JSON config file for a tiny run; `simbench run --config` and `run_config` read it."""
    values = {**TINY_RUN, "model": str(model_dir), **overrides}
    path.write_text(json.dumps(values, indent=2) + "\n", encoding="utf-8")
    return path


def run_config(path: Path) -> Any:
    """The `RunConfig` the CLI builds from the config file at `path`."""
    from simbench.config import build_config, load_config_file

    return build_config(load_config_file(path))


def cli_env(**extra: str) -> dict[str, str]:
    """Environment of a CLI subprocess: one torch thread (the CPU is shared), no colours."""
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "NO_COLOR": "1"}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH", "")]))
    env.update(extra)
    return env


def simbench_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "simbench", *args]


def run_cli(*args: str, cwd: Path, timeout: float = 180, env: dict[str, str] | None = None
            ) -> subprocess.CompletedProcess:
    """`python -m simbench ARGS` in `cwd`, its output captured as text."""
    return subprocess.run(
        simbench_command(*args), cwd=cwd, env=env or cli_env(), capture_output=True, text=True,
        timeout=timeout,
    )


def strict_json(line: str) -> Any:
    """json.loads that rejects NaN/Infinity, which are not JSON and break other parsers."""

    def reject(token: str) -> None:
        raise ValueError(f"non-standard JSON token {token}")

    return json.loads(line, parse_constant=reject)


def read_log(path: Path) -> list[dict[str, Any]]:
    """Every line of a JSONL log, parsed strictly; a torn or broken line fails the test."""
    if not path.exists():
        return []
    text = path.read_text(encoding="utf-8")
    assert not text or text.endswith("\n"), f"{path}: last line has no newline (torn)"
    return [strict_json(line) for line in text.splitlines()]


def without_timing(value: Any) -> Any:
    """`value` without wall-clock fields ("seconds" at any depth): they differ between runs."""
    if isinstance(value, dict):
        return {k: without_timing(v) for k, v in value.items() if k != "seconds"}
    if isinstance(value, list):
        return [without_timing(v) for v in value]
    return value


def run_records(run_dir: Path) -> dict[str, list[dict[str, Any]]]:
    """Every log of a run folder, strictly parsed, without timing fields."""
    return {name: without_timing(read_log(run_dir / f"{name}.jsonl")) for name in LOGS}


def manifest(run_dir: Path) -> dict[str, Any]:
    return json.loads((run_dir / "manifest.json").read_text(encoding="utf-8"))


def all_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file())
