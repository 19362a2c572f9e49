"""report.html and leaderboard.html, of synthetic runs and of the committed reference results,
in headless Chromium: the DOM holds the SVG plots and the screenshot shows them drawn (many
non-white pixels, many in the plot colours), with no script run by injected text.

Skips when Chromium is missing, unless CI=true, where a missing browser is a failure.
"""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from simbench.reporting.leaderboard import write_leaderboard
from simbench.reporting.pages import write_run_report
from simbench.reporting.plots import COLOURS

BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
HELPERS = Path(__file__).resolve().parents[1] / "unit" / "reporting" / "synthetic_runs.py"
COMMITTED = Path(__file__).resolve().parents[2] / "results" / "cpu-reference"
# The first three plot colours (plots.COLOURS): curves and bars are drawn in them.
PLOT_COLOURS = [tuple(int(c[i : i + 2], 16) for i in (1, 3, 5)) for c in COLOURS[:3]]


def _synthetic_runs():
    spec = importlib.util.spec_from_file_location("report_synthetic_runs", HELPERS)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def browser() -> str:
    found = next((path for name in BROWSERS if (path := shutil.which(name))), None)
    if found is None:
        if os.environ.get("CI") == "true":
            pytest.fail("headless Chromium is required in CI (apt-get install -y chromium)")
        pytest.skip("chromium not installed (apt-get install -y chromium); set CI=true to make this fail")
    return found


def chromium(browser: str, tmp_path: Path, page: Path, *args: str) -> subprocess.CompletedProcess:
    command = [
        browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        f"--user-data-dir={tmp_path / 'profile'}", *args, page.resolve().as_uri(),
    ]
    return subprocess.run(command, capture_output=True, text=True, timeout=180, check=True)


def painted(png: Path) -> tuple[float, int]:
    """(share of non-white pixels, pixels within 40 of a plot colour)."""
    from PIL import Image

    image = Image.open(png).convert("RGB")
    pixels = list(image.get_flattened_data()) if hasattr(image, "get_flattened_data") else list(image.getdata())
    non_white = sum(1 for p in pixels if min(p) < 235)
    drawn = sum(1 for p in pixels if any(sum(abs(a - b) for a, b in zip(p, c)) < 40 for c in PLOT_COLOURS))
    return non_white / len(pixels), drawn


@pytest.fixture(scope="module")
def pages(tmp_path_factory) -> dict[str, Path]:
    """Synthetic flip runs (with injected markup), and the committed reference results."""
    helpers = _synthetic_runs()
    tmp = tmp_path_factory.mktemp("browser")
    root = helpers.write_flip_results(tmp / "results")
    _, report = write_run_report(root / "flipper--sdpo-token--s0", bootstrap=50)
    _, board, _ = write_leaderboard(root, bootstrap=20)
    _, committed_report = write_run_report(
        COMMITTED / "concise-then-detailed-48--sdpo-token--s0", tmp / "committed-report", bootstrap=50
    )
    _, committed_board, _ = write_leaderboard(COMMITTED, tmp / "committed-board", bootstrap=20)
    return {"report": report, "leaderboard": board,
            "committed-report": committed_report, "committed-leaderboard": committed_board}


# Leaderboard plots: specificity (learners with a twin), vs frozen, adaptation, final adherence,
# unlearning (flips), forgetting (complementary). The synthetic runs have no twin.
PAGES = [("report", 1), ("leaderboard", 4), ("committed-report", 1), ("committed-leaderboard", 6)]


@pytest.mark.parametrize("name, plots", PAGES)
def test_dom_holds_the_svg_plots_and_no_injected_script(browser, pages, tmp_path, name, plots):
    dom = chromium(browser, tmp_path, pages[name], "--dump-dom").stdout
    assert dom.count("<svg ") == plots
    assert dom.count("<path ") > 50 * plots
    tags, handlers = parsed(dom)
    assert "script" not in tags and not handlers


def parsed(dom: str) -> tuple[set[str], list[str]]:
    """Element names and event-handler attributes of a serialised DOM.

    The <title> is cut first: the serialiser writes its text raw (RCDATA), so an escaped
    payload in the title reads like a tag to a parser that does not know that rule.
    """
    from html.parser import HTMLParser

    class Collector(HTMLParser):
        def __init__(self) -> None:
            super().__init__()
            self.tags: set[str] = set()
            self.handlers: list[str] = []

        def handle_starttag(self, tag: str, attrs: list) -> None:
            self.tags.add(tag)
            self.handlers += [name for name, _ in attrs if name.startswith("on")]

    collector = Collector()
    collector.feed(re.sub(r"<title>.*?</title>", "", dom, flags=re.S))
    return collector.tags, collector.handlers


@pytest.mark.parametrize("name", [name for name, _ in PAGES])
def test_screenshot_shows_the_plots(browser, pages, tmp_path, name):
    png = tmp_path / f"{name}.png"
    # Tall enough to reach the first plots below the tables and a flip's verdicts.
    chromium(browser, tmp_path, pages[name], f"--screenshot={png}", "--window-size=1200,3200")
    share, drawn = painted(png)
    assert share > 0.03, f"page looks blank: {share:.1%} non-white pixels"
    assert drawn > 1000, f"the plot colours are barely drawn ({drawn} pixels)"
