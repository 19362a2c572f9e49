"""The docs site builds with `mkdocs build --strict`: a broken link, a missing page or a bad
anchor between pages fails CI. mkdocs comes with the `dev` extra; without it this fails."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[2]


def test_the_docs_site_builds_strictly(tmp_path):
    assert importlib.util.find_spec("mkdocs") is not None, (
        'mkdocs is not installed: pip install -e ".[dev]" (or pip install "mkdocs>=1.5")')
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(tmp_path / "site")],
        cwd=REPO, capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert (tmp_path / "site" / "cli" / "index.html").is_file()


def test_every_page_of_docs_is_in_the_site_navigation():
    nav = yaml.safe_load((REPO / "mkdocs.yml").read_text(encoding="utf-8"))["nav"]
    listed = {page for entry in nav for page in entry.values()}
    missing = sorted(p.name for p in (REPO / "docs").glob("*.md") if p.name not in listed)
    assert not missing, f"add {missing} to the nav of mkdocs.yml"
