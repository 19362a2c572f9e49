"""Run manifests: the config plus everything needed to trust and reproduce a result.

Records persona and prompt-pool hashes, the schedule, package versions, the git commit and
the seed. Secrets never enter it: the options named in `secrets.SECRET_OPTIONS` are dropped
(the OpenAI-compatible user reads its key from an environment variable named in the config).
"""

from __future__ import annotations

import hashlib
import platform
import subprocess
import sys
import time
from importlib import metadata
from pathlib import Path
from typing import Any

from simbench import __version__
from simbench.logs.schema import SCHEMA_VERSION
from simbench.runner.secrets import redact

PACKAGES = ("simbench", "torch", "transformers", "peft", "openai", "pydantic", "vllm")


def package_versions() -> dict[str, str]:
    versions = {}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return versions


def git_commit() -> str:
    """The commit of the simbench checkout (with '+dirty' if modified), or 'unknown'."""
    root = Path(__file__).resolve().parents[2]
    try:
        commit = subprocess.run(
            ["git", "-C", str(root), "rev-parse", "HEAD"],
            capture_output=True, text=True, timeout=10, check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no"],
            capture_output=True, text=True, timeout=10, check=True,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return commit + ("+dirty" if dirty else "")


def file_hash(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def manifest_for(inputs: Any) -> dict[str, Any]:
    """The manifest of a new run (status 'running' until the run layer finishes it)."""
    from simbench.learners.unrelated import ALIASES, feedback_of
    from simbench.prompts import pool_hash

    config = inputs.config.model_dump(mode="json")
    config["user_options"] = redact(config["user_options"])
    persona = inputs.persona
    return {
        "schema_version": SCHEMA_VERSION,
        "simbench_version": __version__,
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "status": "running",
        "config": config,
        "learner": inputs.config.learner,
        # What the learner learns from: "user" follow-ups, "unrelated" messages (a control
        # arm, learners/unrelated.py), or None for arms that ignore feedback.
        "feedback": feedback_of(inputs.config.learner),
        "learner_alias_of": ALIASES.get(inputs.config.learner),
        "model": inputs.config.model,
        "user": inputs.config.user,
        "seed": inputs.config.seed,
        "interactions": inputs.interactions,
        "persona": {
            "id": persona.id,
            "name": persona.name,
            "file": str(inputs.persona_path),
            "file_sha256": file_hash(inputs.persona_path),
            "content_hash": persona.content_hash(),
            "schedule": [p.model_dump(mode="json") for p in persona.schedule],
            "ever": list(inputs.engine.ever()),
            "opposites": {
                pid: persona.preference(pid).opposite
                for pid in inputs.engine.ever()
                if persona.preference(pid).opposite
            },
            "min_tokens": inputs.token_floors(),
            "scenario": inputs.engine.scenario(),
            "irrelevant_rate": persona.noise.irrelevant_rate,
        },
        "prompts": {
            "train": {"n": len(inputs.train), "sha256": pool_hash(inputs.train)},
            "probe": {"n": len(inputs.probe), "sha256": pool_hash(inputs.probe),
                      "ids": [p.id for p in inputs.probe]},
            "general": {"n": len(inputs.general), "ids": [q.id for q in inputs.general]},
            "drift": {"n": len(inputs.drift_texts) + len(inputs.general),
                      "ids": [p.id for p in inputs.drift_texts] + [q.id for q in inputs.general]},
        },
        "versions": package_versions(),
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "git_commit": git_commit(),
        "warnings": inputs.warnings(),
    }
