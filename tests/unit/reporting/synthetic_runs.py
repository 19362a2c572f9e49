"""Writes small but real run folders (manifest + JSONL logs through the record schemas), so
report and leaderboard tests read files exactly as `simbench run` writes them.

A helper module rather than a conftest.py, imported by the report tests."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

import pytest

from simbench.logs.schema import CheckOutcome, GeneralRecord, InteractionRecord, ProbeRecord, UpdateLogRecord

XSS = '<script>alert(1)</script>'
ATTR = '" onmouseover="x'

FLIP = [{"at": 0, "preferences": ["concise"]}, {"at": 4, "preferences": ["detailed"]}]
SINGLE = [{"at": 0, "preferences": ["concise"]}]
COMPLEMENTARY = [{"at": 0, "preferences": ["concise"]}, {"at": 4, "preferences": ["concise", "no_emojis"]}]


def _jsonl(path: Path, records: Sequence[Any]) -> None:
    lines = [json.dumps(r.model_dump(mode="json") if hasattr(r, "model_dump") else r) for r in records]
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")


def write_run(
    folder: Path,
    *,
    learner: str,
    seed: int = 0,
    schedule: Sequence[Mapping[str, Any]] = FLIP,
    passing: Callable[[str, int, int], bool],
    persona_id: str = "flipper",
    persona_name: str = "Flipper",
    opposites: Mapping[str, str] | None = None,
    interactions: int = 8,
    probe_every: int = 2,
    probes: int = 4,
    model: str = "tiny-llama",
    text: str = "an answer",
    follow_up: str = "shorter please",
    signals: Sequence[Mapping[str, Any]] | None = None,
    general: bool = True,
    status: str = "complete",
    seconds: float = 0.5,
    commit: str = "abc123",
) -> Path:
    """A run folder whose probe outcome for (preference, t, prompt index) is `passing(...)`."""
    folder.mkdir(parents=True, exist_ok=True)
    ever = sorted({p for phase in schedule for p in phase["preferences"]})
    manifest = {
        "schema_version": 1, "status": status, "position": interactions,
        "config": {"learner": learner, "seed": seed, "model": model, "user_options": {}},
        "learner": learner, "model": model, "user": "rules", "seed": seed,
        "interactions": interactions,
        "persona": {"id": persona_id, "name": persona_name, "file": f"{persona_id}.yaml",
                    "content_hash": f"hash-{persona_id}", "schedule": list(schedule), "ever": ever,
                    "opposites": dict(opposites if opposites is not None else {"concise": "detailed"}),
                    "scenario": "flip", "irrelevant_rate": 0.0},
        "prompts": {"probe": {"n": probes, "sha256": "probes-sha", "ids": [f"p{i}" for i in range(probes)]}},
        "versions": {"simbench": "0.1.0", "torch": "2.13.0"},
        "git_commit": commit,
        "sessions": [{"status": status, "t": interactions, "seconds": 10.0, "peak_rss_mb": 321.0}],
    }
    (folder / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    times = list(range(0, interactions + 1, probe_every))
    probe_records = [
        ProbeRecord(t=t, probe_id=f"p{i}", prompt=f"probe question {i}", response=f"{text} (probe {i})",
                    checks={pref: CheckOutcome(passed=passing(pref, t, i)) for pref in ever}, tokens=7)
        for t in times for i in range(probes)
    ]
    _jsonl(folder / "probes.jsonl", probe_records)

    def active(t: int) -> list[str]:
        return list([phase for phase in schedule if phase["at"] <= t][-1]["preferences"])

    _jsonl(folder / "interactions.jsonl", [
        InteractionRecord(t=t, prompt_id=f"q{t}", messages=[{"role": "user", "content": f"question {t}"}],
                          response=f"{text} #{t}", follow_up=follow_up, violated=active(t)[:1],
                          active=active(t), tokens=12, seconds={"generate": seconds, "user": 0.01})
        for t in range(interactions)
    ])
    updating = learner.startswith("sdpo")
    _jsonl(folder / "updates.jsonl", [
        UpdateLogRecord(update=u, t=2 * (u + 1), stats={"loss": 0.1}, seconds=1.0)
        for u in range(interactions // 2)
    ] if updating else [])
    if signals is not None:
        _jsonl(folder / "signals.jsonl", list(signals))
    if general:
        _jsonl(folder / "general.jsonl", [
            GeneralRecord(t=t, id=f"g{i}", response="4", correct=(i == 0 or t == 0))
            for t in times for i in range(2)
        ])
    return folder


def rising(pref_start: Mapping[str, int]) -> Callable[[str, int, int], bool]:
    """Prompt i passes preference p from t >= start[p] + i (so adherence climbs over time)."""
    return lambda pref, t, i: t >= pref_start.get(pref, 10**6) + i


def never(pref: str, t: int, i: int) -> bool:
    return False


def always(pref: str, t: int, i: int) -> bool:
    return True


PAYLOAD = XSS + ATTR


def signal_records(updates: int = 4) -> list[dict]:
    """signals.jsonl records as the sdpo learner writes them, carrying injection payloads."""
    return [
        {"update": u, "t": 2 * (u + 1), "turn": 0, "response": "Hello" + PAYLOAD,
         "follow_up": "too long " + PAYLOAD, "tokens": ["Hello", XSS, ATTR, " world"],
         "advantages": [0.5, -1.0, 0.25, 0.0]}
        for u in range(updates)
    ]


def write_flip_results(root: Path) -> Path:
    """root/ with a frozen, an oracle and an sdpo-token run of one flip persona (seed 0)."""
    common = dict(persona_name="Flipper " + PAYLOAD)
    write_run(root / "flipper--frozen--s0", learner="frozen", passing=lambda p, t, i: i == 0, **common)
    write_run(root / "flipper--in-context-oracle--s0", learner="in-context-oracle",
              passing=lambda p, t, i: i < 3, **common)
    write_run(root / "flipper--sdpo-token--s0", learner="sdpo-token",
              passing=rising({"concise": 0, "detailed": 4}), text=PAYLOAD, follow_up=PAYLOAD,
              signals=signal_records(), **common)
    return root


@pytest.fixture
def flip_results(tmp_path: Path) -> Path:
    """A results folder of synthetic flip runs (import this fixture into a test module)."""
    return write_flip_results(tmp_path / "results")
