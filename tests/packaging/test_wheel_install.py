"""The built wheel is self-contained: installed into a fresh virtual environment (outside the
repository, with no path to the checkout), `simbench run` with the default persona and model
finishes and writes its run folder. Catches package data left out of the wheel (personas,
prompt pools, the preset adapter) and code that reads files beside the repository."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SOURCES = ("pyproject.toml", "README.md", "simbench", "sdpo", "personas")
TINY_RUN = ["--learner", "frozen", "--interactions", "2", "--batch-size", "2", "--probe-every", "2",
            "--probe-prompts", "1", "--general-questions", "0", "--max-new-tokens", "4", "--quiet"]


def clean_env() -> dict[str, str]:
    """The environment minus anything that points Python at the checkout."""
    return {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP")}


@pytest.mark.slow
def test_installed_wheel_runs_the_default_job_outside_the_repository(tmp_path):
    # Build from a copy so setuptools' build/ folder never lands in (or leaks stale files from) the checkout.
    source = tmp_path / "source"
    source.mkdir()
    for name in SOURCES:
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, source / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(ROOT / name, source / name)
    wheels = tmp_path / "wheels"
    subprocess.run([sys.executable, "-m", "pip", "wheel", str(source), "--no-deps", "--no-build-isolation",
                    "-q", "-w", str(wheels)], check=True, env=clean_env(), cwd=tmp_path, timeout=300)
    wheel = next(wheels.glob("simbench_online-*.whl"))

    # System site-packages give torch & co. without a download; the wheel's copy must win over
    # any editable install of the checkout there, which the __file__ check below proves.
    env_dir = tmp_path / "venv"
    venv.create(env_dir, system_site_packages=True, with_pip=False)
    python = env_dir / "bin" / "python"
    subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps", "-q", str(wheel)],
                   check=True, env=clean_env(), cwd=tmp_path, timeout=300)

    work = tmp_path / "elsewhere"
    work.mkdir()
    where = subprocess.run([str(python), "-I", "-c", "import simbench.paths as p; print(p.__file__); "
                            "print(p.default_persona_path())"],
                           check=True, capture_output=True, text=True, cwd=work, env=clean_env()).stdout.split()
    site = str(env_dir / "lib")
    assert where[0].startswith(site) and where[1].startswith(site), where

    run = subprocess.run([str(env_dir / "bin" / "simbench"), "run", *TINY_RUN, "--out", "run"],
                         capture_output=True, text=True, cwd=work, env=clean_env(), timeout=600)
    assert run.returncode == 0, run.stderr[-2000:]
    manifest = json.loads((work / "run" / "manifest.json").read_text())
    assert manifest["status"] == "complete" and manifest["persona"]["id"] == "concise"
    assert manifest["versions"]["simbench-online"] == "0.1.0"
    records = [json.loads(line) for line in (work / "run" / "interactions.jsonl").read_text().splitlines()]
    assert len(records) == 2
