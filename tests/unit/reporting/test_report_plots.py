"""Inline SVG plots: bare <svg> elements, phase switches marked, no label text leaking."""

from __future__ import annotations

import re

from synthetic_runs import XSS

from simbench.metrics.run_summary import Adherence, Phase
from simbench.reporting.plots import adherence_svg, curve_styles, interval_bars_svg, label_rows

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
    assert one.count('id="phase-switch-t') == 0
    assert three.count('id="phase-switch-t3"') == 1 and three.count('id="phase-switch-t6"') == 1


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


def test_labels_of_short_phases_stack_in_rows_instead_of_overlapping():
    # Three phases of 2 interactions out of 60: their centred labels would overlap in one row.
    short = label_rows([(0.0, 0.9), (0.9, 0.933), (0.933, 0.967), (0.967, 1.0)], [0.2] * 4)
    assert short[0] == 0 and len(set(short[1:])) == 3
    assert label_rows([(0.0, 0.5), (0.5, 1.0)], [0.2, 0.2]) == [0, 0]


def test_short_phases_draw_their_labels_on_separate_rows():
    svg = adherence_svg(CURVES, phases((0, ["concise"]), (70, ["detailed"]), (75, ["concise"]), end=80))
    rows = [int(r) for r in re.findall(r'id="phase-label-\d+-row(\d+)"', svg)]
    assert len(rows) == 3 and rows[1] != rows[2]


def test_identical_curves_differ_in_style_and_say_so_in_the_legend():
    same = {"concise": CURVES["concise"], "no-lists": CURVES["concise"].model_copy()}
    first, second = curve_styles(same)
    assert (first["linestyle"], first["marker"]) != (second["linestyle"], second["marker"])
    # The earlier curve is wider and below, so the later one is drawn visibly on top of it.
    assert first["linewidth"] > second["linewidth"] and first["zorder"] < second["zorder"]
    assert first["label"] == "concise" and second["label"] == "no-lists (= concise)"
    svg = adherence_svg(same, phases((0, ["concise", "no-lists"])))
    assert 'id="curve-0"' in svg and 'id="curve-1"' in svg
