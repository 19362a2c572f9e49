"""README.md is the front door: its relative links (and those of the other READMEs outside the
docs site, which `mkdocs build --strict` does not see) lead to files that exist, its test
command is the one CI runs, and it stays short (the rest lives in docs/)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
README = (REPO / "README.md").read_text(encoding="utf-8")
OUTSIDE_THE_SITE = ["README.md", "CONTRIBUTING.md", "personas/README.md", "personas/paper/README.md",
                    "results/README.md", "benchmarks/README.md"]


@pytest.mark.parametrize("page", OUTSIDE_THE_SITE)
def test_every_relative_link_resolves_to_a_file(page):
    path = REPO / page
    targets = re.findall(r"\]\(([^)\s]+)\)", path.read_text(encoding="utf-8"))
    relative = [t for t in targets if not re.match(r"[a-z]+:|#", t)]
    missing = [t for t in relative if not (path.parent / t.split("#")[0]).exists()]
    assert not missing, f"{page} links to missing files: {missing}"


def test_the_readme_links_to_every_page_of_the_docs_site():
    pages = sorted(p.name for p in (REPO / "docs").glob("*.md") if p.name != "index.md")
    unlisted = [p for p in pages if f"(docs/{p})" not in README]
    assert not unlisted, f"add {unlisted} to the README's Documentation list"


def test_the_readme_test_command_is_the_one_ci_runs():
    ci = (REPO / ".ci" / "run").read_text(encoding="utf-8")
    command = ci.split("# The README's test command, verbatim:\n")[1].splitlines()[0]
    assert f"```bash\n{command}\n```" in README


def test_the_readme_stays_a_front_door():
    assert len(README.splitlines()) <= 250
