"""Plots as inline SVG strings (matplotlib, Agg backend) for self-contained reports.

Text is drawn as glyph paths, and the XML prolog, metadata and comments (where matplotlib
repeats label text verbatim) are stripped, so an SVG can sit inside HTML without escaping
issues and renders the same without fonts or network access.
"""

from __future__ import annotations

import io
import math
import re
import warnings
from typing import TYPE_CHECKING, Any, Mapping, Sequence

if TYPE_CHECKING:
    from simbench.metrics.run_summary import Adherence, Phase

# Colour-blind-safe (Okabe-Ito) cycle: curves of one report stay distinguishable.
COLOURS = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#F0E442", "#000000")

SWITCH_COLOUR = "#555555"  # the dashed phase-switch lines

_PROLOG = re.compile(r"<\?xml.*?\?>|<!DOCTYPE.*?>|<!--.*?-->|<metadata>.*?</metadata>", re.S)


def _figure(width: float, height: float) -> tuple[Any, Any]:
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    return plt.subplots(figsize=(width, height))


def figure_svg(fig: Any, salt: str) -> str:
    """The figure as a bare `<svg>` element (closed afterwards).

    `salt` seeds matplotlib's element ids, so two plots inlined in one page get distinct
    clip-path ids while the same plot always renders byte-identically.
    """
    import matplotlib
    import matplotlib.pyplot as plt

    buffer = io.StringIO()
    try:
        with matplotlib.rc_context({"svg.fonttype": "path", "svg.hashsalt": salt}), warnings.catch_warnings():
            # A label in a script the font lacks (a learner or persona named in any Unicode)
            # is drawn as boxes; matplotlib's warning per glyph would be stray stderr output.
            warnings.filterwarnings("ignore", message="Glyph .* missing from font", category=UserWarning)
            fig.savefig(buffer, format="svg", metadata={"Date": None}, bbox_inches="tight")
    finally:
        plt.close(fig)
    svg = _PROLOG.sub("", buffer.getvalue()).strip()
    # Scale with the page instead of overflowing narrow windows.
    return svg.replace("<svg ", '<svg style="max-width:100%;height:auto" role="img" ', 1)


# Line styles and markers cycle with the colours, so curves stay apart in greyscale and an
# identical curve drawn over another still shows its own dashes and markers.
LINESTYLES = ("-", "--", ":", "-.")
MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*")
# Phase labels: estimated width of one character, as a share of the axes' width (7.5 pt text
# on the ~6 in wide axes), and the height of one row of labels, as a share of its height.
LABEL_CHAR_WIDTH = 0.0098
LABEL_ROW_HEIGHT = 0.075


def curve_styles(adherence: Mapping[str, Adherence]) -> list[dict[str, Any]]:
    """Plot keywords of each curve, in sorted preference order.

    Colour, line style and marker all differ between curves; earlier curves are drawn wider
    and lower, so a later identical curve sits visibly on top of them; a curve equal to an
    earlier one says so in its legend label ("no-lists (= concise)").
    """
    styles: list[dict[str, Any]] = []
    seen: dict[tuple[tuple[Any, ...], tuple[Any, ...]], str] = {}
    for k, (pref, curve) in enumerate(sorted(adherence.items())):
        key = (tuple(curve.t), tuple(curve.s))
        label = f"{pref} (= {seen[key]})" if key in seen else pref
        seen.setdefault(key, pref)
        styles.append({
            "label": label, "color": COLOURS[k % len(COLOURS)], "linestyle": LINESTYLES[k % len(LINESTYLES)],
            "marker": MARKERS[k % len(MARKERS)], "markersize": max(6.5 - 1.0 * k, 3.0),
            "linewidth": max(3.0 - 0.5 * k, 1.0), "zorder": 2 + k,
        })
    return styles


def label_rows(spans: Sequence[tuple[float, float]], widths: Sequence[float]) -> list[int]:
    """Row of each phase label (0: just above the axes), so that no two labels in a row overlap.

    `spans` are the phases' (start, end) as shares of the axes' width and `widths` the labels'
    widths in the same unit; a label is centred on its phase and takes the lowest free row.
    """
    taken: list[list[tuple[float, float]]] = []
    rows = []
    for (start, end), width in zip(spans, widths):
        middle = (start + end) / 2
        left, right = middle - width / 2, middle + width / 2
        row = next((r for r, used in enumerate(taken) if all(right <= a or left >= b for a, b in used)), len(taken))
        if row == len(taken):
            taken.append([])
        taken[row].append((left, right))
        rows.append(row)
    return rows


def adherence_svg(
    adherence: Mapping[str, Adherence],
    phases: Sequence[Phase],
    title: str = "",
    salt: str = "adherence",
) -> str:
    """Adherence s_j(t) per preference with the phase switches marked.

    `adherence` and `phases` are a run summary's (None in a curve marks a probe without a
    check). Each switch gets a dashed vertical line, and every phase a label with its active
    preferences (numbered from 1), stacked in rows where short phases would make labels overlap.
    """
    fig, ax = _figure(7.5, 3.6)
    for k, ((_, curve), style) in enumerate(zip(sorted(adherence.items()), curve_styles(adherence))):
        t = [*curve.t]
        s = [math.nan if v is None else float(v) for v in curve.s]
        ax.plot(t, s, gid=f"curve-{k}", **style)
    end = max((p.end for p in phases), default=1)
    span = max(end, 1)
    # Phases are numbered from 1 everywhere a reader sees them (reporting/glossary.py).
    labels = [f"phase {p.index + 1}: " + (", ".join(p.preferences) or "none") for p in phases]
    rows = label_rows([(p.start / span, p.end / span) for p in phases],
                      [len(label) * LABEL_CHAR_WIDTH for label in labels])
    for phase, label, row in zip(phases, labels, rows):
        if phase.start > 0:
            # The id lets a test (or a reader of the SVG) find the switch and its position.
            ax.axvline(phase.start, color=SWITCH_COLOUR, linestyle="--", linewidth=1.0,
                       gid=f"phase-switch-t{phase.start}")
        middle = (phase.start + phase.end) / 2
        ax.text(middle, 1.04 + row * LABEL_ROW_HEIGHT, label, ha="center", va="bottom", fontsize=7.5,
                transform=ax.get_xaxis_transform(), color="#333333", gid=f"phase-label-{phase.index}-row{row}")
    ax.set_xlim(0, span)
    ax.set_ylim(-0.03, 1.03)
    ax.set_xlabel("interactions seen (t)")
    ax.set_ylabel("adherence (share of probes passing)")
    if title:
        ax.set_title(title, pad=18 + 20 * max(rows, default=0), fontsize=10)
    ax.grid(alpha=0.3)
    if adherence:
        ax.legend(fontsize=8, loc="center left", bbox_to_anchor=(1.01, 0.5), frameon=False)
    return figure_svg(fig, salt)


def interval_bars_svg(
    groups: Sequence[str],
    series: Mapping[str, Sequence[tuple[float | None, float | None, float | None]]],
    ylabel: str,
    title: str = "",
    salt: str = "bars",
) -> str:
    """Grouped bars with error bars: `series[name][i]` = (mean, lo, hi) for `groups[i]`.

    Missing values (None/NaN) leave a gap, so a learner absent from a scenario shows no bar.
    """
    fig, ax = _figure(7.5, 3.4)
    names = list(series)
    width = 0.8 / max(len(names), 1)
    for k, name in enumerate(names):
        xs, means, lows, highs = [], [], [], []
        for i, (mean, lo, hi) in enumerate(series[name]):
            if mean is None or math.isnan(mean):
                continue
            xs.append(i - 0.4 + width * (k + 0.5))
            means.append(mean)
            # A bootstrap percentile interval need not contain the point estimate: clip at 0.
            lows.append(max(mean - lo, 0.0) if lo is not None and not math.isnan(lo) else 0.0)
            highs.append(max(hi - mean, 0.0) if hi is not None and not math.isnan(hi) else 0.0)
        ax.bar(xs, means, width=width * 0.92, color=COLOURS[k % len(COLOURS)], label=name,
               yerr=[lows, highs], capsize=3, error_kw={"linewidth": 1.0})
    ax.set_xticks(range(len(groups)))
    ax.set_xticklabels(groups)
    ax.set_xlim(-0.6, len(groups) - 0.4)
    ax.set_ylabel(ylabel)
    ax.axhline(0, color="#333333", linewidth=0.8)
    ax.grid(axis="y", alpha=0.3)
    if title:
        ax.set_title(title, fontsize=10)
    if names:
        ax.legend(fontsize=8, loc="center left", bbox_to_anchor=(1.01, 0.5), frameon=False)
    return figure_svg(fig, salt)
