"""Inline SVG plots: bare <svg> elements, phase switches marked, no label text leaking."""

from __future__ import annotations

import re

from simbench.metrics.run_summary import Adherence, Phase
from simbench.reporting.plots import adherence_svg, interval_bars_svg

from synthetic_runs import XSS

CURVES = {"concise": Adherence(t=[0, 2, 4, 6, 8], s=[0.0, 0.5, 1.0, None, 0.5]),
          "detailed": Adherence(t=[0, 2, 4, 6, 8], s=[0.0, 0.0, 0.25, 0.75, 1.0])}


def phases(*starts_and_prefs, end=8):
    out = []
    for k, (start, prefs) in enumerate(starts_and_prefs):
        nxt = starts_and_prefs[k + 1][0] if k + 1 < len(starts_and_prefs) else end
        out.append(Phase(index=k, start=start, end=nxt, preferences=prefs))
    return out


def test_adherence_svg_is_a_bare_svg_element_with_drawn_curves():
    svg = adherence_svg(CURVES, phases((0, ["concise"]), (4, ["detailed"])))
    assert svg.startswith("<svg ") and svg.rstrip().endswith("</svg>")
    assert "<?xml" not in svg and "<!DOCTYPE" not in svg and "<!--" not in svg and "<metadata" not in svg
    assert len(re.findall(r"<path ", svg)) > 20  # curves, markers, axes and glyphs


def test_each_phase_switch_gets_one_dashed_vertical_line():
    one = adherence_svg(CURVES, phases((0, ["concise"])))
    three = adherence_svg(CURVES, phases((0, ["concise"]), (3, ["detailed"]), (6, ["concise"])))
    assert one.count("stroke-dasharray") == 0
    assert three.count("stroke-dasharray") == 2


def test_label_text_never_appears_in_the_svg_source():
    svg = adherence_svg({XSS: CURVES["concise"]}, phases((0, [XSS])), title=XSS)
    assert "script" not in svg and "alert" not in svg


def clip_ids(svg: str) -> set[str]:
    return set(re.findall(r'clipPath id="([^"]+)"', svg))


def test_salt_separates_ids_and_output_is_deterministic():
    a1 = adherence_svg(CURVES, phases((0, ["concise"])), salt="a")
    a2 = adherence_svg(CURVES, phases((0, ["concise"])), salt="a")
    b = adherence_svg(CURVES, phases((0, ["concise"])), salt="b")
    assert a1 == a2
    assert clip_ids(a1) and not clip_ids(a1) & clip_ids(b)


def test_interval_bars_leave_a_gap_for_a_missing_value():
    with_gap = interval_bars_svg(["single", "flip"], {"frozen": [(0.1, 0.0, 0.2), (None, None, None)],
                                                      "sdpo": [(0.5, 0.4, 0.6), (0.7, 0.6, 0.8)]}, "AULC")
    full = interval_bars_svg(["single", "flip"], {"frozen": [(0.1, 0.0, 0.2), (0.2, 0.1, 0.3)],
                                                  "sdpo": [(0.5, 0.4, 0.6), (0.7, 0.6, 0.8)]}, "AULC")
    assert with_gap.startswith("<svg ")
    # every drawn bar is one patch: the missing value leaves one bar out
    assert with_gap.count('id="patch_') < full.count('id="patch_')
