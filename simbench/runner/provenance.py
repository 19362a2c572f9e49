"""Run manifests: the config plus everything needed to trust and reproduce a result.

Records persona and prompt-pool hashes, the schedule, package versions, the git commit and
the seed, as a typed `logs.schema.Manifest`. Secrets never enter it: the options named in
`redaction.SECRET_OPTIONS` are dropped (the OpenAI-compatible user reads its key from an
environment variable named in the config).
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

from sdpo.precision import cpu_flags as read_cpu_flags
from simbench.arms import alias_of
from simbench.distribution import DIST_NAME, version
from simbench.learners import LEARNERS
from simbench.logs.schema import Manifest, PersonaProvenance, PhaseInfo, PoolProvenance, PromptsProvenance
from simbench.prompts import pool_hash

PACKAGES = (DIST_NAME, "torch", "transformers", "peft", "openai", "pydantic", "vllm")


# The SIMD extensions that choose torch's (and llama.cpp's) CPU kernels: the low bits of fp32
# sums, and every timing, differ between machines that differ here.
SIMD_FLAGS = ("avx", "avx2", "fma", "avx512f", "avx512_bf16", "amx_bf16", "neon", "asimd")


def cpu_flags(cpuinfo: Path = Path("/proc/cpuinfo")) -> str:
    """This CPU's flags among SIMD_FLAGS, space-separated; "" where `cpuinfo` is missing."""
    present = read_cpu_flags(cpuinfo)
    return " ".join(f for f in SIMD_FLAGS if f in present)


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


def manifest_for(inputs: Any) -> Manifest:
    """The manifest of a new run (status running until the run layer finishes it)."""
    persona, engine = inputs.persona, inputs.engine
    return Manifest(
        simbench_version=version(),
        created=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        config=inputs.config.redacted(),
        learner=inputs.config.learner,
        # What the learner learns from: "user" follow-ups, "unrelated" messages (a control
        # arm, learners/unrelated.py), or None for arms that ignore feedback.
        feedback=LEARNERS.feedback_of(inputs.config.learner),
        learner_alias_of=alias_of(inputs.config.learner),
        judge=inputs.judge.identity() if inputs.judge is not None else None,
        # Recorded once a run chose a path; default-path (fp32) manifests stay as they were.
        matmul_path=None if inputs.config.precision == "fp32" else inputs.matmul_path,
        matmul_reason=None if inputs.config.precision == "fp32" else inputs.matmul_reason,
        model=inputs.config.model,
        user=inputs.config.user,
        seed=inputs.config.seed,
        interactions=inputs.interactions,
        persona=PersonaProvenance(
            id=persona.id,
            name=persona.name,
            file=str(inputs.persona_path),
            file_sha256=file_hash(inputs.persona_path),
            content_hash=persona.content_hash(),
            schedule=[PhaseInfo.model_validate(p.model_dump(mode="json")) for p in persona.schedule],
            ever=list(engine.ever()),
            opposites={pid: persona.preference(pid).opposite for pid in engine.ever()
                       if persona.preference(pid).opposite},
            min_tokens=inputs.token_floors(),
            scenario=engine.scenario(),
            irrelevant_rate=persona.noise.irrelevant_rate,
        ),
        prompts=PromptsProvenance(
            train=PoolProvenance(n=len(inputs.train), sha256=pool_hash(inputs.train)),
            probe=PoolProvenance(n=len(inputs.probe), sha256=pool_hash(inputs.probe),
                                 ids=[p.id for p in inputs.probe]),
            general=PoolProvenance(n=len(inputs.general), ids=[q.id for q in inputs.general]),
            drift=PoolProvenance(n=len(inputs.drift_texts) + len(inputs.general),
                                 ids=[p.id for p in inputs.drift_texts] + [q.id for q in inputs.general]),
        ),
        versions=package_versions(),
        python=sys.version.split()[0],
        platform=platform.platform(),
        cpu_flags=cpu_flags(),
        git_commit=git_commit(),
        warnings=inputs.warnings(),
    )
