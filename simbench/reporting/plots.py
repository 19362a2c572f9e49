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


def adherence_svg(
    adherence: Mapping[str, Adherence],
    phases: Sequence[Phase],
    title: str = "",
    salt: str = "adherence",
) -> str:
    """Adherence s_j(t) per preference with the phase switches marked.

    `adherence` and `phases` are a run summary's (None in a curve marks a probe without a
    check). Each switch gets a dashed vertical line, and
    every phase a label with its active preferences (numbered from 1).
    """
    fig, ax = _figure(7.5, 3.6)
    for k, (pref, curve) in enumerate(sorted(adherence.items())):
        t = [*curve.t]
        s = [math.nan if v is None else float(v) for v in curve.s]
        ax.plot(t, s, marker="o", markersize=3.5, linewidth=1.6,
                color=COLOURS[k % len(COLOURS)], label=pref)
    for phase in phases:
        if phase.start > 0:
            # The id lets a test (or a reader of the SVG) find the switch and its position.
            ax.axvline(phase.start, color=SWITCH_COLOUR, linestyle="--", linewidth=1.0,
                       gid=f"phase-switch-t{phase.start}")
        middle = (phase.start + phase.end) / 2
        # Phases are numbered from 1 everywhere a reader sees them (reporting/glossary.py).
        label = f"phase {phase.index + 1}: " + (", ".join(phase.preferences) or "none")
        ax.text(middle, 1.04, label, ha="center", va="bottom", fontsize=7.5,
                transform=ax.get_xaxis_transform(), color="#333333")
    end = max((p.end for p in phases), default=1)
    ax.set_xlim(0, max(end, 1))
    ax.set_ylim(-0.03, 1.03)
    ax.set_xlabel("interactions seen (t)")
    ax.set_ylabel("adherence (share of probes passing)")
    if title:
        ax.set_title(title, pad=18, fontsize=10)
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
