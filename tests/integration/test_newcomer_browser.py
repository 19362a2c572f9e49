"""report.html and leaderboard.html of real runs (a flip at t=13, add -> drop -> revert, a
noisy user) looked at in headless Chromium the way a person would: the dashed phase-switch
lines and the probe markers sit at the right x on the screenshot, the glossary is on the
page, and nothing reads "?" or "0 session(s)" for a run that has logs.

Skips without Chromium unless CI=true (see test_report_browser.py).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from newcomer_runs import run_newcomer_sweep
from test_report_browser import browser, chromium  # noqa: F401  (browser is a fixture)

from simbench.reporting.leaderboard import write_leaderboard
from simbench.reporting.pages import write_run_report
from simbench.reporting.plots import COLOURS, SWITCH_COLOUR

pytestmark = pytest.mark.timeout(900)
RUNS = ("flip-odd", "add-drop-revert", "noisy")


def rgb(colour: str) -> tuple[int, int, int]:
    return tuple(int(colour[i : i + 2], 16) for i in (1, 3, 5))


@pytest.fixture(scope="module")
def pages(tmp_path_factory, smol_tokenizer) -> dict[str, Path]:
    results = run_newcomer_sweep(tmp_path_factory.mktemp("newcomer-browser") / "results", smol_tokenizer)
    found = {name: write_run_report(results / f"{name}--sdpo-token--s0", bootstrap=10)[1] for name in RUNS}
    found["leaderboard"] = write_leaderboard(results, bootstrap=5)[1]
    return found


def visible_text(dom: str) -> str:
    """The page's text as a reader sees it: no style, no SVG internals, no tags."""
    dom = re.sub(r"<(style|svg|title)\b.*?</\1>", " ", dom, flags=re.S)
    return " ".join(re.sub(r"<[^>]+>", " ", dom).replace("&amp;", "&").split())


def columns_matching(image, colour: tuple[int, int, int], tolerance: int, rows: range) -> dict[int, int]:
    """x -> number of pixels in `rows` within `tolerance` (sum of channel differences) of `colour`."""
    pixels = image.load()
    counts = {}
    for x in range(image.width):
        n = sum(1 for y in rows if sum(abs(a - b) for a, b in zip(pixels[x, y], colour)) <= tolerance)
        if n:
            counts[x] = n
    return counts


def clusters(xs: list[int]) -> list[float]:
    """Centres of runs of adjacent x positions."""
    out: list[list[int]] = []
    for x in sorted(xs):
        if out and x - out[-1][-1] <= 1:
            out[-1].append(x)
        else:
            out.append([x])
    return [sum(run) / len(run) for run in out]


def plot_frame(image) -> tuple[int, int, int, int]:
    """(left, right, top, bottom) of the axes box: the two longest near-black vertical lines."""
    pixels = image.load()
    best: dict[int, tuple[int, int, int]] = {}  # x -> (length, top, bottom) of its longest dark run
    for x in range(image.width):
        run_start, longest = None, (0, 0, 0)
        for y in range(image.height):
            if max(pixels[x, y]) < 110:
                run_start = y if run_start is None else run_start
                if y - run_start + 1 > longest[0]:
                    longest = (y - run_start + 1, run_start, y)
            else:
                run_start = None
        if longest[0] >= 100:
            best[x] = longest
    left, right = min(best), max(best)
    return left, right, best[left][1], best[left][2]


@pytest.mark.parametrize("name", RUNS)
def test_a_reader_sees_switches_and_probes_at_the_right_x(browser, pages, tmp_path, name):  # noqa: F811
    from PIL import Image

    page = pages[name]
    run = page.parent
    manifest = json.loads((run / "manifest.json").read_text())
    total = manifest["interactions"]
    switches = [phase["at"] for phase in manifest["persona"]["schedule"][1:]]
    probe_times = sorted({json.loads(line)["t"] for line in (run / "probes.jsonl").read_text().splitlines()})
    png = tmp_path / f"{name}.png"
    chromium(browser, tmp_path, page, f"--screenshot={png}", "--window-size=1200,3200")
    image = Image.open(png).convert("RGB")
    left, right, top, bottom = plot_frame(image)
    scale = (right - left) / total  # the x axis spans 0..T exactly

    inner = range(top + 2, bottom - 1)
    # A 1-pixel line that falls between two pixel columns is anti-aliased a shade lighter
    # (85 -> 106 grey here), so the tolerance admits that shade; grid lines (~190) stay out.
    dashed = columns_matching(image, rgb(SWITCH_COLOUR), 90, inner)
    lines = clusters([x for x, n in dashed.items() if n >= 0.3 * len(inner) and left + 2 < x < right - 2])
    expected = [left + at * scale for at in switches]
    assert len(lines) == len(expected), (lines, expected)
    for seen, want in zip(lines, expected):
        assert abs(seen - want) <= 3, f"switch drawn at x={seen:.0f}, expected {want:.0f} ({name})"

    drawn = set()
    for colour in COLOURS[:2]:
        drawn |= set(columns_matching(image, rgb(colour), 60, range(top - 8, bottom + 8)))
    for t in probe_times:
        x = left + t * scale
        assert any(abs(x - d) <= 4 for d in drawn), f"no marker near t={t} (x={x:.0f}) in {name}"


@pytest.mark.parametrize("name", [*RUNS, "leaderboard"])
def test_a_reader_finds_the_glossary_and_no_placeholder(browser, pages, tmp_path, name):  # noqa: F811
    text = visible_text(chromium(browser, tmp_path, pages[name], "--dump-dom").stdout)
    assert "Glossary" in text and "perseveration" in text and "BWT" in text
    assert "0 session(s)" not in text
    assert not re.search(r"(^|\s)\?(\s|$)", text.split(" Interactions ")[0])
    if name != "leaderboard":
        assert "Schedule" in text and "1 session(s)" in text
