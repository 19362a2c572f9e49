"""Helpers for runner tests: a 2-phase persona file, and real runs on a tiny random Llama.

Runs go through `simbench.runner.run.execute` with `build_parts` whose model loader returns a
fresh 2-layer random Llama (SmolLM2's tokenizer), so the loop, learners and files are real.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

import pytest
from tinymodels import make_tiny_llama, single_torch_thread

PERSONA = """\
id: two-phase
name: Two phases
background: A tester who first wants short answers, then answers without emojis.
interactions: 8
schedule:
  - at: 0
    preferences: [concise]
  - at: {switch}
    preferences: [no-emojis]
"""

# Wall-clock measurements differ between two otherwise identical runs, so log comparisons
# drop them: `seconds` in every record (interaction stage times, update and probe time) and
# the same key inside an update's `stats` (SDPOUpdater / sft-hindsight time their step).
TIMING_KEYS = ("seconds",)
LOG_NAMES = ("interactions", "updates", "probes", "general", "signals", "drift")


@pytest.fixture(scope="module")
def one_torch_thread():
    """Tiny-model ops are too small to share out: on a loaded 2-core machine two intra-op
    threads made a run 20x slower (80 s vs 4 s) waiting on each other. Use it autouse:
    `pytestmark = pytest.mark.usefixtures("one_torch_thread")` after importing it."""
    with single_torch_thread():
        yield


def write_persona(folder: Path, switch: int = 4) -> Path:
    path = folder / "two-phase.yaml"
    path.write_text(PERSONA.format(switch=switch))
    return path


def tiny_config(persona: Path, **overrides: Any):
    """A RunConfig for a seconds-long run: T=8, B=2, probes every 2, 2 probe prompts."""
    from simbench.config import build_config

    values = dict(
        persona=str(persona),
        learner="sdpo-token",
        interactions=8,
        batch_size=2,
        probe_every=2,
        probe_prompts=2,
        general_questions=1,
        max_new_tokens=6,
        seed=0,
    )
    values.update(overrides)
    return build_config(values)


def tiny_parts_factory(tokenizer):
    """`build_parts` with a loader that returns a fresh tiny Llama (same init every call)."""
    from simbench.runner.parts import build_parts

    return functools.partial(build_parts, load=lambda name, device: (make_tiny_llama(tokenizer), tokenizer))


def run_tiny(config, out: Path, tokenizer, **kwargs: Any):
    from simbench.runner.run import execute

    return execute(config, out=out, parts_factory=tiny_parts_factory(tokenizer), **kwargs)


def records(run_dir: Path, name: str) -> list[dict[str, Any]]:
    path = run_dir / f"{name}.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def without_timing(record: dict[str, Any]) -> dict[str, Any]:
    out = {k: v for k, v in record.items() if k not in TIMING_KEYS}
    if isinstance(out.get("stats"), dict):
        out["stats"] = {k: v for k, v in out["stats"].items() if k not in TIMING_KEYS}
    return out


def comparable_logs(run_dir: Path) -> dict[str, list[dict[str, Any]]]:
    """Every JSONL log of a run, timing fields removed (see TIMING_KEYS)."""
    return {name: [without_timing(r) for r in records(run_dir, name)] for name in LOG_NAMES}
