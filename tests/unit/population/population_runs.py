"""Helpers for population tests: a 2-phase persona, float64 tiny-model loaders and log reading.

Single runs and populations load the same 2-layer random Llama (SmolLM2's tokenizer) in
float64, so a population's member logs can be compared with single runs' to rounding.
"""

from __future__ import annotations

import functools
import json
import math
from pathlib import Path
from typing import Any

from tinymodels import make_tiny_llama

PERSONA = """\
id: two-phase
name: Two phases
background: A tester who first wants short answers, then answers without emojis.
interactions: 6
schedule:
  - at: 0
    preferences: [concise]
  - at: 4
    preferences: [no-emojis]
"""
SETTINGS = dict(interactions=6, batch_size=2, probe_every=4, probe_prompts=1, general_questions=1, max_new_tokens=4)
LOG_NAMES = ("interactions", "updates", "probes", "general", "signals", "drift")


def write_persona(folder: Path) -> Path:
    path = folder / "two-phase.yaml"
    path.write_text(PERSONA)
    return path


def float64_loader(tokenizer):
    """A model loader (`runner.parts.ModelLoader`) returning a fresh float64 tiny Llama."""
    return lambda name, device: (make_tiny_llama(tokenizer).double(), tokenizer)


def single_parts(tokenizer):
    from simbench.runner.parts import build_parts

    return functools.partial(build_parts, load=float64_loader(tokenizer))


def records(run_dir: Path, name: str) -> list[dict[str, Any]]:
    path = run_dir / f"{name}.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def _strip(value: Any) -> Any:
    """`value` without wall-clock fields (`seconds` anywhere), which differ between runs."""
    if isinstance(value, dict):
        return {k: _strip(v) for k, v in value.items() if k != "seconds"}
    if isinstance(value, list):
        return [_strip(v) for v in value]
    return value


def assert_same(got: Any, want: Any, rel: float, where: str = "") -> None:
    """Equal structures: strings, ints and bools exactly, floats to `rel` (NaN equals NaN)."""
    if isinstance(want, dict):
        assert isinstance(got, dict) and got.keys() == want.keys(), where
        for key in want:
            assert_same(got[key], want[key], rel, f"{where}.{key}")
    elif isinstance(want, list):
        assert isinstance(got, list) and len(got) == len(want), where
        for i, (a, b) in enumerate(zip(got, want)):
            assert_same(a, b, rel, f"{where}[{i}]")
    elif isinstance(want, float) and not isinstance(got, bool):
        assert isinstance(got, (int, float)), where
        assert (math.isnan(got) and math.isnan(want)) or math.isclose(got, want, rel_tol=rel, abs_tol=1e-12), \
            f"{where}: {got} != {want}"
    else:
        assert got == want, f"{where}: {got!r} != {want!r}"


def assert_same_logs(got: Path, want: Path, rel: float = 1e-9, drift_rel: float = 1e-9) -> None:
    for name in LOG_NAMES:
        assert_same(_strip(records(got, name)), _strip(records(want, name)),
                    drift_rel if name == "drift" else rel, f"{got.name}/{name}")
