"""Four persona kinds a newcomer would write first, run for real (tiny random Llama, rules
user) as one sweep with the frozen and in-context-oracle baselines: a flip at an odd
interaction, add -> drop -> revert, three stacked additions and a noisy user.

A helper module (not a conftest) shared by test_newcomer_reports.py and the browser test.
"""

from __future__ import annotations

import functools
from pathlib import Path

PERSONAS = {
    "flip-odd": """\
id: flip-odd
name: Flip at an odd interaction
background: A student who wants short answers, then long ones.
interactions: 20
schedule:
  - at: 0
    preferences: [concise]
  - at: 13
    preferences: [detailed]
""",
    "add-drop-revert": """\
id: add-drop-revert
name: Add, drop, revert
background: A reader who tries plain prose for a while and then goes back to it.
interactions: 16
schedule:
  - at: 0
    preferences: [no-emojis]
  - at: 4
    preferences: [no-emojis, no-lists]
  - at: 8
    preferences: [no-emojis]
  - at: 12
    preferences: [no-emojis, no-lists]
""",
    "stacked": """\
id: stacked
name: Three stacked additions
background: A writer who notices one more habit every few answers.
interactions: 16
schedule:
  - at: 0
    preferences: [no-emojis]
  - at: 4
    preferences: [no-emojis, no-filler-praise]
  - at: 8
    preferences: [no-emojis, no-filler-praise, no-markdown-emphasis]
  - at: 12
    preferences: [no-emojis, no-filler-praise, no-markdown-emphasis, no-exclamation]
""",
    "noisy": """\
id: noisy
name: Noisy user
background: Someone who often changes the subject.
interactions: 8
noise: {irrelevant_rate: 0.5}
schedule:
  - at: 0
    preferences: [concise, no-exclamation]
""",
}
SCENARIOS = {"flip-odd": "flip", "add-drop-revert": "revert", "stacked": "complementary", "noisy": "profile"}
LEARNERS = ("frozen", "in-context-oracle", "sdpo-token")
SETTINGS = {"batch_size": 2, "probe_every": 4, "probe_prompts": 2, "max_new_tokens": 6,
            "general_questions": 2}


def write_personas(folder: Path) -> dict[str, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = {}
    for name, text in PERSONAS.items():
        paths[name] = folder / f"{name}.yaml"
        paths[name].write_text(text, encoding="utf-8")
    return paths


def run_newcomer_sweep(out: Path, tokenizer) -> Path:
    """The four personas x frozen, in-context-oracle, sdpo-token, seed 0, into `out`."""
    from tinymodels import make_tiny_llama, single_torch_thread

    from simbench.runner.parts import build_parts
    from simbench.runner.sweep import run_sweep

    paths = write_personas(out.parent / "personas")
    load = lambda name, device: (make_tiny_llama(tokenizer), tokenizer)  # noqa: E731
    with single_torch_thread():
        result = run_sweep([str(p) for p in paths.values()], list(LEARNERS), [0], out, dict(SETTINGS),
                           command="test", parts_factory=functools.partial(build_parts, load=load),
                           display=None)
    assert result.ok, [(o.cell.name, o.status, o.message) for o in result.outcomes]
    return out
