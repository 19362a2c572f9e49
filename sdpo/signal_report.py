"""Signal-analysis outputs: per-token JSON, a self-contained HTML page with tokens coloured by
advantage, and PNG heatmaps (matplotlib Agg, no display needed).

Everything is rendered from `CaseSignal`s alone, so `signal.json` can be re-rendered later;
every piece of text from cases, tokens or metadata is HTML-escaped (quote=True).
"""

from __future__ import annotations

import base64
import html
import io
import json
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from sdpo.files import write_replacing
from sdpo.signal import SIGNAL_FORMAT, CaseSignal, SignalSummary, preference_line, summarise, summary_line

# RdBu ends, as in the PNGs: red = the follow-up made the token less likely, blue = more likely.
_NEGATIVE = (178, 24, 43)
_POSITIVE = (33, 102, 172)
_CSS = """
body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222}
table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}
th:first-child,td:first-child{text-align:left}
.case{border-top:2px solid #888;margin-top:2em;padding-top:.5em}
.row{white-space:pre-wrap;font-family:ui-monospace,monospace;font-size:13px;line-height:1.7;
border:1px solid #ddd;padding:6px;margin:4px 0}
.tok{border-radius:2px}.stop{font-size:10px;background:#333;color:#fff;border-radius:3px;padding:0 3px;margin:0 2px}
.label{font-weight:600;margin-top:.6em}.note{color:#555;font-size:13px}img{max-width:100%}
"""


@dataclass(frozen=True)
class ReportPaths:
    """Files written by `write_report`."""

    signals: Path
    summary: Path
    html: Path
    overview: Path
    heatmaps: list[Path]


def colour_cap(cases: Sequence[CaseSignal], quantile: float = 0.98) -> float:
    """The |A| that gets full colour: a high quantile over every token of every case, shared by
    all rows so colours compare across cases and follow-ups (outliers saturate)."""
    values = sorted(
        abs(a)
        for c in cases
        for a in (*c.relevant_advantages, *c.unrelated_advantages)
        if math.isfinite(a)
    )
    if not values:
        return 1.0
    cap = values[min(len(values) - 1, int(quantile * len(values)))]
    return cap if cap > 0 else 1.0


def advantage_colour(advantage: float, cap: float) -> str:
    """CSS background for one token: red below 0, blue above, opacity |A| / cap (clipped)."""
    if not math.isfinite(advantage):
        return "rgba(128,128,128,0.6)"
    red, green, blue = _POSITIVE if advantage > 0 else _NEGATIVE
    alpha = min(abs(advantage) / cap, 1.0) if cap > 0 else 0.0
    return f"rgba({red},{green},{blue},{alpha:.3f})"


def file_stem(index: int, case_id: str) -> str:
    """A safe PNG name for case `index` (ids may hold any character)."""
    slug = re.sub(r"[^A-Za-z0-9_.-]+", "-", case_id).strip("-.")[:40] or "case"
    return f"{index:02d}-{slug}"


def _esc(value: Any) -> str:
    return html.escape(str(value), quote=True)


def token_row(case: CaseSignal, which: str, cap: float) -> str:
    """One response as coloured token spans, with the stop-decision shift marked after each
    decision point. `which` is "relevant" or "unrelated"."""
    advantages = case.relevant_advantages if which == "relevant" else case.unrelated_advantages
    markers = {d.position: d for d in case.decisions}
    parts = []
    for t, (piece, a) in enumerate(zip(case.pieces, advantages)):
        student = case.student_logprobs[t]
        title = f"{piece!r}: A={a:+.4f} (log p {student:.3f} -> {student + a:.3f} with the follow-up)"
        parts.append(
            f'<span class="tok" style="background:{advantage_colour(a, cap)}" title="{_esc(title)}">{_esc(piece)}</span>'
        )
        point = markers.get(t + 1)
        if point is not None:
            p_follow = point.p_relevant if which == "relevant" else point.p_unrelated
            title = f"P(end of turn) here: {point.p_plain:.1%} without follow-up, {p_follow:.1%} with it"
            label = f"\u23ce {100 * (p_follow - point.p_plain):+.1f}pp"
            parts.append(f'<span class="stop" title="{_esc(title)}">{_esc(label)}</span>')
    return f'<div class="row">{"".join(parts)}</div>'


def _png_tag(png: bytes, alt: str) -> str:
    data = base64.b64encode(png).decode("ascii")
    return f'<img alt="{_esc(alt)}" src="data:image/png;base64,{data}">'


def _number(value: float | None, fmt: str) -> str:
    return "n/a" if value is None or not math.isfinite(value) else format(value, fmt)


def summary_table(summary: SignalSummary) -> str:
    """Per-preference table plus the all-cases row."""
    head = (
        "<tr><th>preference</th><th>cases</th><th>mean |A| relevant</th><th>mean |A| unrelated</th>"
        "<th>ratio</th><th>relevant &gt; unrelated</th><th>stop shift relevant</th><th>stop shift unrelated</th></tr>"
    )
    rows = [(name, s) for name, s in summary.by_preference.items()] + [("all cases", summary)]
    body = "".join(
        f"<tr><td>{_esc(name)}</td><td>{s.cases}</td><td>{_number(s.mean_abs_relevant, '.4f')}</td>"
        f"<td>{_number(s.mean_abs_unrelated, '.4f')}</td><td>{_number(s.ratio, '.2f')}</td>"
        f"<td>{s.relevant_wins}/{s.cases}</td><td>{_number(s.stop_shift_relevant, '+.4f')}</td>"
        f"<td>{_number(s.stop_shift_unrelated, '+.4f')}</td></tr>"
        for name, s in rows
    )
    return f"<table>{head}{body}</table>"


def render_html(
    cases: Sequence[CaseSignal],
    summary: SignalSummary,
    meta: dict[str, Any],
    images: dict[int | str, bytes] | None = None,
) -> str:
    """The whole page as a string; `images` maps case index (and "overview") to PNG bytes to inline."""
    images = images or {}
    cap = colour_cap(cases)
    meta_items = "".join(f"<li>{_esc(k)}: {_esc(v)}</li>" for k, v in meta.items())
    sections = []
    for index, case in enumerate(cases):
        image = _png_tag(images[index], f"advantage heatmap of {case.id}") if index in images else ""
        sections.append(
            f'<div class="case" id="{_esc(case.id)}"><h2>{_esc(case.id)}</h2>'
            f'<p class="note">preference {_esc(case.preference)} ({_esc(case.kind)}); mean |A| '
            f"{_number(case.mean_abs_relevant, '.4f')} relevant vs {_number(case.mean_abs_unrelated, '.4f')} "
            f"unrelated; stop shift {_number(case.stop_shift_relevant, '+.4f')} vs "
            f"{_number(case.stop_shift_unrelated, '+.4f')}</p>"
            f'<div class="label">prompt</div><div class="row">{_esc(case.prompt)}</div>'
            f'<div class="label">with the relevant follow-up: {_esc(case.relevant)}</div>'
            f"{token_row(case, 'relevant', cap)}"
            f'<div class="label">with the unrelated follow-up: {_esc(case.unrelated)}</div>'
            f"{token_row(case, 'unrelated', cap)}{image}</div>"
        )
    overview = _png_tag(images["overview"], "overview heatmaps") if "overview" in images else ""
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        f"<title>SDPO signal analysis</title><style>{_CSS}</style></head><body>"
        f"<h1>SDPO signal analysis</h1><p><code>{_esc(summary_line(summary))}</code></p>"
        f"<ul class=\"note\">{meta_items}</ul>{summary_table(summary)}"
        '<p class="note">Token colour: advantage A<sub>t</sub> = log p(token | prompt + follow-up) '
        "&minus; log p(token | prompt); blue = the follow-up made the token more likely, red = less; "
        f"full colour at |A| &ge; {cap:.3f}. &#9166; badges: change of the probability of ending the "
        "turn at that point (sentence ends and the end of the response). Hover for values.</p>"
        f"{overview}{''.join(sections)}</body></html>\n"
    )


# ---------------------------------------------------------------------------- PNG heatmaps


def _figure(width: float, height: float) -> Any:
    # A bare Figure with an Agg canvas: no pyplot global state, no display needed.
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(width, height), dpi=100, layout="constrained")
    FigureCanvasAgg(figure)
    return figure


def _png(figure: Any) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()


def case_heatmap_png(case: CaseSignal, cap: float) -> bytes:
    """Two-row heatmap (relevant, unrelated) of A over response tokens, decision points as
    vertical lines, and P(end of turn) at those points below it."""
    n = len(case.token_ids)
    figure = _figure(min(16.0, max(6.0, n / 14)), 3.6)
    heat, stop = figure.subplots(2, 1, sharex=True, height_ratios=[1, 1.2])
    values = np.array([case.relevant_advantages, case.unrelated_advantages], dtype=float)
    image = heat.imshow(values, aspect="auto", cmap="RdBu", vmin=-cap, vmax=cap, interpolation="nearest")
    heat.set_yticks([0, 1], ["relevant", "unrelated"])
    heat.set_title(f"{case.id} ({case.preference}, {case.kind}): A per response token")
    figure.colorbar(image, ax=heat, label="A", fraction=0.03)
    positions = [d.position - 0.5 for d in case.decisions]
    for x in positions:
        heat.axvline(x, color="black", linewidth=0.6, alpha=0.5)
    if case.decisions:
        stop.plot(positions, [d.p_plain for d in case.decisions], "o-", color="gray", label="no follow-up")
        stop.plot(positions, [d.p_relevant for d in case.decisions], "s-", color="tab:blue", label="relevant")
        stop.plot(positions, [d.p_unrelated for d in case.decisions], "^-", color="tab:orange", label="unrelated")
        stop.legend(fontsize=7, loc="upper left")
    stop.set_ylim(0, 1)
    stop.set_ylabel("P(end of turn)")
    stop.set_xlabel("response token")
    stop.set_xlim(-0.5, n - 0.5)
    return _png(figure)


def overview_png(cases: Sequence[CaseSignal]) -> bytes:
    """Cases x follow-up heatmaps: mean |A| (left) and stop-decision shift (right), annotated."""
    figure = _figure(9.0, 1.6 + 0.32 * max(len(cases), 1))
    left, right = figure.subplots(1, 2)
    labels = [c.id for c in cases]
    panels = [
        (left, [[c.mean_abs_relevant, c.mean_abs_unrelated] for c in cases], "mean |A|", "viridis", ".3f"),
        (right, [[c.stop_shift_relevant, c.stop_shift_unrelated] for c in cases], "stop-decision shift", "RdBu", "+.3f"),
    ]
    for axis, rows, title, cmap, fmt in panels:
        values = np.array(rows, dtype=float).reshape(len(cases), 2)
        finite = values[np.isfinite(values)]
        extent = float(np.abs(finite).max()) if finite.size else 0.0
        extent = extent or 1.0
        axis.imshow(values, aspect="auto", cmap=cmap, vmin=-extent if cmap == "RdBu" else 0.0, vmax=extent)
        axis.set_xticks([0, 1], ["relevant", "unrelated"])
        axis.set_yticks(range(len(cases)), labels if axis is left else [""] * len(cases), fontsize=7)
        axis.set_title(title)
        for (row, col), value in np.ndenumerate(values):
            axis.text(col, row, "n/a" if not math.isfinite(value) else format(value, fmt), ha="center",
                      va="center", fontsize=7, color="white" if cmap == "viridis" else "black")
    return _png(figure)


# ---------------------------------------------------------------------------- files


def write_report(
    out_dir: str | Path,
    cases: Sequence[CaseSignal],
    meta: dict[str, Any],
    summary: SignalSummary | None = None,
) -> ReportPaths:
    """Write signal.json, summary.json, overview.png, heatmaps/*.png and signal.html."""
    out = Path(out_dir)
    (out / "heatmaps").mkdir(parents=True, exist_ok=True)
    summary = summary or summarise(cases)
    signals = out / "signal.json"
    # Replacing writes: a symbolic link planted at any output name is replaced, not followed.
    write_replacing(
        signals,
        json.dumps({"format": SIGNAL_FORMAT, "meta": meta, "cases": [c.to_dict() for c in cases]}, ensure_ascii=False)
        + "\n",
    )
    summary_file = out / "summary.json"
    lines = [summary_line(summary)] + [preference_line(k, v) for k, v in summary.by_preference.items()]
    write_replacing(
        summary_file,
        json.dumps({"meta": meta, "summary": summary.to_dict(), "lines": lines}, indent=2, ensure_ascii=False) + "\n",
    )
    cap = colour_cap(cases)
    images: dict[int | str, bytes] = {"overview": overview_png(cases)}
    overview = out / "overview.png"
    write_replacing(overview, images["overview"])
    heatmaps = []
    for index, case in enumerate(cases):
        images[index] = case_heatmap_png(case, cap)
        path = out / "heatmaps" / f"{file_stem(index, case.id)}.png"
        write_replacing(path, images[index])
        heatmaps.append(path)
    page = out / "signal.html"
    write_replacing(page, render_html(cases, summary, meta, images))
    return ReportPaths(signals, summary_file, page, overview, heatmaps)


def read_signals(path: str | Path) -> tuple[dict[str, Any], list[CaseSignal]]:
    """(meta, cases) from a signal.json written by `write_report`, to re-render or re-aggregate."""
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    if data.get("format") != SIGNAL_FORMAT:
        raise ValueError(f"{path}: unsupported signal format {data.get('format')!r}")
    return data.get("meta", {}), [CaseSignal.from_dict(c) for c in data["cases"]]
