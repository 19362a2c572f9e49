"""Building blocks of the self-contained HTML reports: escaping, tables, token colouring, page.

Every value passes through `esc` (html.escape with quote=True) unless it is a `Raw` fragment
this package built itself, and the page forbids scripts and network loads by its
Content-Security-Policy, so model or user text can never run or fetch anything.
"""

from __future__ import annotations

import html
import math
from typing import Any, Iterable, Sequence

from simbench.reporting.calibration import calibration_sections
from simbench.reporting.flip_report import flip_verdict_lines
from simbench.reporting.format import fmt, fmt_interval, joined  # noqa: F401  (fmt, fmt_interval: older import path)
from simbench.reporting.leaderboard_schema import Leaderboard
from simbench.reporting.markdown import (
    judge_scored_words,
    leaderboard_tables,
    provenance_lists,
    run_rows,
    scenario_heading,
)
from simbench.reporting.pairs import pair_sections
from simbench.reporting.plots import adherence_svg, interval_bars_svg
from simbench.reporting.rubric import rubric_lines
from simbench.reporting.run_notes import (
    gate_note,
    glossary_sections,
    schedule_section,
    user_quality_section,
)
from simbench.reporting.run_report import (
    adherence_section,
    general_count,
    metric_sections,
    run_facts,
    run_title,
    run_warnings,
)

# No scripts, no fetches: inline styles and inline SVG only.
CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"

STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 2rem auto;
       max-width: 1100px; padding: 0 1rem; color: #1a1a1a; line-height: 1.45; }
h1 { font-size: 1.5rem; } h2 { font-size: 1.2rem; margin-top: 2rem;
     border-bottom: 1px solid #ddd; padding-bottom: .2rem; } h3 { font-size: 1rem; }
table { border-collapse: collapse; margin: .5rem 0 1rem; font-size: .88rem; }
th, td { border: 1px solid #d0d0d0; padding: .25rem .5rem; vertical-align: top; text-align: left; }
th { background: #f3f3f3; } td.num { text-align: right; font-variant-numeric: tabular-nums; }
.note { color: #555; font-size: .88rem; } .figure { margin: 1rem 0; }
.text { white-space: pre-wrap; background: #fafafa; border: 1px solid #e4e4e4;
        padding: .4rem .6rem; font-size: .88rem; margin: .2rem 0 .6rem; }
.tokens { white-space: pre-wrap; font-family: ui-monospace, monospace; font-size: .85rem;
          line-height: 1.9; border: 1px solid #e4e4e4; padding: .4rem .6rem; }
.tokens span { border-radius: 2px; }
.card { border: 1px solid #ddd; border-radius: 4px; padding: .5rem .8rem; margin: .8rem 0; }
.warnings { border: 1px solid #e0a000; background: #fff8e1; border-radius: 4px; padding: .2rem 1rem; }
"""


class Raw(str):
    """An HTML fragment built by this package (already safe); everything else is escaped."""


def esc(value: Any) -> str:
    """Text as HTML, safe in element content and in quoted attribute values."""
    return html.escape(str(value), quote=True)


def cell(value: Any) -> str:
    if isinstance(value, Raw):
        return str(value)
    return esc(value)


def table(headers: Sequence[Any], rows: Iterable[Sequence[Any]], numeric_from: int | None = None) -> Raw:
    """An HTML table; columns from `numeric_from` on are right-aligned."""
    head = "".join(f"<th>{cell(h)}</th>" for h in headers)
    body = []
    for row in rows:
        cells = []
        for i, value in enumerate(row):
            css = ' class="num"' if numeric_from is not None and i >= numeric_from else ""
            cells.append(f"<td{css}>{cell(value)}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return Raw(f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>")


def text_block(text: str) -> Raw:
    """Model or user text, escaped, with its line breaks kept."""
    return Raw(f'<div class="text">{esc(text)}</div>')


def advantage_colour(value: float, scale: float) -> str:
    """Background for a token's advantage: green positive, red negative, stronger when larger."""
    if scale <= 0 or not math.isfinite(value) or value == 0:
        return "transparent"
    alpha = 0.08 + 0.72 * min(abs(value) / scale, 1.0)
    rgb = "0,160,60" if value > 0 else "220,30,30"
    return f"rgba({rgb},{alpha:.2f})"


def token_spans(tokens: Sequence[str], advantages: Sequence[float]) -> Raw:
    """Each token in a span coloured by its advantage; its title (tooltip) shows the token
    (repr, so whitespace is visible) and the value.

    Colours are scaled by the largest |advantage| of the response, so each response uses
    the whole colour range; the title holds the exact value.
    """
    finite = [abs(a) for a in advantages if a is not None and math.isfinite(a)]
    scale = max(finite, default=0.0)
    spans = []
    for token, value in zip(tokens, advantages):
        number = float("nan") if value is None else float(value)
        shown = f"{number:+.4f}" if math.isfinite(number) else "n/a"
        title = f"{token!r}: A = {shown}"
        spans.append(
            f'<span style="background:{advantage_colour(number, scale)}" title="{esc(title)}">'
            f"{esc(token)}</span>"
        )
    return Raw(f'<div class="tokens">{"".join(spans)}</div>')


def definition_list(items: Iterable[tuple[str, Any]]) -> Raw:
    """A two-column key/value table without a header row."""
    rows = "".join(f"<tr><th>{esc(key)}</th><td>{cell(value)}</td></tr>" for key, value in items)
    return Raw(f"<table><tbody>{rows}</tbody></table>")


def page(title: str, parts: Iterable[str]) -> str:
    """A complete HTML document with inline style and no external resource."""
    body = "\n".join(str(part) for part in parts)
    return (
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{esc(title)}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n"
        f"<h1>{esc(title)}</h1>\n{body}\n</body>\n</html>\n"
    )


def section_html(section: Any, heading: str = "h3") -> Raw:
    """A report.run_report.Section as a heading, a table and its notes."""
    notes = "".join(f'<p class="note">{esc(note)}</p>' for note in section.notes)
    return Raw(f"<{heading}>{esc(section.title)}</{heading}>"
               f"{table(section.headers, section.rows, numeric_from=section.numeric_from)}{notes}")


def run_report_html(report: Any) -> str:
    """report.html for a report.run_report.RunReport: one self-contained page."""
    summary = report.summary
    parts: list[str] = [warnings_html(run_warnings(report)), definition_list(run_facts(report))]
    opposites = (report.manifest.get("persona") or {}).get("opposites") or {}
    parts.append(section_html(schedule_section(summary, opposites), heading="h2"))
    baselines = report.baselines.describe(report.run_dir)
    parts.append("<h2>Baselines</h2><ul>" + "".join(f"<li>{esc(line)}</li>" for line in baselines) + "</ul>")
    judged = rubric_lines(report.rubric, report.summary.not_scored)
    if judged:
        parts.append("<h2>Judge-scored preferences</h2><ul>" + "".join(f"<li>{esc(x)}</li>" for x in judged) + "</ul>")
    parts.append("<h2>Adherence per preference</h2>")
    parts.append(
        '<p class="note">Share of held-out probe answers that pass each preference\'s checker; '
        "dashed lines mark phase switches.</p>"
    )
    plot = adherence_svg(summary.adherence, summary.phases, salt="run-adherence")
    parts.append(f'<div class="figure">{plot}</div>')
    parts.append(f"<details><summary>values</summary>{section_html(adherence_section(summary))}</details>")
    parts.append("<h2>Metrics</h2>")
    parts += [section_html(section)
              for section in pair_sections(report.pairs) + calibration_sections(report.calibration) + metric_sections(summary, general_count(report.manifest))]
    parts.append(section_html(user_quality_section(summary)))
    parts.append("<h2>Interactions</h2>")
    if not report.interactions:
        parts.append('<p class="note">No interactions were logged.</p>')
    for record in report.interactions:
        parts.append(interaction_html(record))
    if report.probe_examples:
        parts.append("<h2>Probe answers at the first and last probe</h2>")
        for probe in report.probe_examples:
            failed = [pid for pid, check in probe.checks.items() if check.passed is False]
            parts.append(f'<div class="card"><strong>{esc(probe.probe_id)} at t={esc(probe.t)}</strong> '
                         f'<span class="note">fails: {esc(", ".join(failed) or "none")}</span>'
                         f'<div class="note">prompt</div>{text_block(probe.prompt)}'
                         f'<div class="note">answer</div>{text_block(probe.response)}</div>')
    parts.append("<h2>Per-token advantages</h2>")
    if not report.signals:
        parts.append('<p class="note">This run logged no token signals '
                     "(only SDPO learners write signals.jsonl).</p>")
    else:
        parts.append('<p class="note">Green: the hindsight teacher made the token more likely than the '
                     "student did (positive advantage); red: less likely. Hover a token for its value.</p>")
    for signal in report.signals:
        parts.append(
            f'<div class="card"><strong>update {esc(signal.get("update", "?"))}, interaction '
            f't={esc(signal.get("t", "?"))}</strong><div class="note">follow-up:</div>'
            f'{text_block(str(signal.get("follow_up", "")))}'
            f'{token_spans(signal["tokens"], signal["advantages"])}</div>'
        )
    parts.append(glossary_html(glossary_sections()))
    return page(run_title(report.manifest), parts)


def warnings_html(warnings: Sequence[str]) -> Raw:
    """A highlighted box of warnings (nothing when there are none)."""
    if not warnings:
        return Raw("")
    items = "".join(f"<li><strong>warning:</strong> {esc(w)}</li>" for w in warnings)
    return Raw(f'<div class="warnings" id="warnings"><h2>Warnings</h2><ul>{items}</ul></div>')


def glossary_html(sections: Sequence[Any]) -> Raw:
    """The glossary and flag tables under one heading (run reports and leaderboards)."""
    body = "".join(section_html(section) for section in sections)
    return Raw(f'<h2 id="glossary">Glossary</h2>{body}')


def interaction_html(record: Any) -> Raw:
    prompt = record.messages[-1]["content"] if record.messages else ""
    head = (f"t={record.t}, turn {record.turn} · active: {', '.join(record.active) or 'none'} · "
            f"reacted to: {', '.join(record.violated) or 'nothing'}"
            + (" · irrelevant by design" if record.irrelevant else "") + gate_note(record))
    return Raw(
        f'<div class="card"><strong>{esc(head)}</strong>'
        f'<div class="note">prompt</div>{text_block(prompt)}'
        f'<div class="note">response</div>{text_block(record.response)}'
        f'<div class="note">follow-up</div>{text_block(record.follow_up)}</div>'
    )


def leaderboard_html(board: Leaderboard) -> str:
    """leaderboard.html: the table, bar plots with CIs, provenance and notes, self-contained."""
    columns = board.columns
    seeds = board.provenance.seeds
    parts: list[str] = [
        f'<p class="note">Mean [95% CI] over {len(seeds)} seed(s); each seed\'s value is the mean '
        "over its personas of that scenario type.</p>",
    ]
    for scenario, headers, rows in leaderboard_tables(board):
        parts += [f"<h2>Scenario: {esc(scenario_heading(scenario))}</h2>", table(headers, rows, numeric_from=2)]
    if flip_verdict_lines(board):
        parts.append("<h2>Flip verdicts</h2><ul>" + "".join(f"<li>{esc(v)}</li>" for v in flip_verdict_lines(board))
                     + "</ul>")
    plotted = (("specificity", "adherence difference", "Specificity (minus the unrelated-feedback twin)"),
               ("vs_frozen", "adherence difference", "Adherence minus the frozen model's"),
               ("adaptation", "normalised AULC", "Adaptation (normalised AULC)"),
               ("final", "final adherence", "Final adherence (raw)"),
               ("unlearning", "perseveration", "Unlearning (perseveration, lower is better)"),
               ("forgetting", "forgetting F", "Forgetting (Chaudhry F, lower is better)"))
    for metric, label, title in plotted:
        scenarios = [c.scenario for c in columns if c.metric == metric]
        if not scenarios:
            continue
        series = {}
        for row in board.rows:
            stats = [row.cells[s][metric] for s in scenarios]
            series[f"{row.learner} ({row.model})"] = [
                (x.mean, x.lo, x.hi) if x else (None, None, None) for x in stats]
        parts.append(f"<h2>{esc(title)}</h2>")
        plot = interval_bars_svg(scenarios, series, label, salt=f"board-{metric}")
        parts.append(f'<div class="figure">{plot}</div>')
    meanings = "".join(f"<li><strong>{esc(name)}</strong>: {esc(text)}</li>"
                       for name, text in board.metrics.items())
    parts.append(f"<h2>Metrics</h2><ul>{meanings}</ul>")
    parts.append(glossary_html(glossary_sections()))
    prov = board.provenance
    facts = provenance_lists(prov)
    facts.append(("persona hashes", joined(prov.persona_hashes)))
    facts.append(("versions", joined(prov.versions)))
    if prov.judge_scored:
        facts.append(("judge-scored preferences", judge_scored_words(prov.judge_scored)))
    parts.append("<h2>Provenance</h2>" + definition_list(facts))
    if board.notes:
        parts.append("<h2>Notes</h2><ul>" + "".join(f"<li>{esc(n)}</li>" for n in board.notes) + "</ul>")
    parts.append("<h2>Runs</h2>" + table(
        ["run", "persona", "learner", "seed", "scenario", "frozen baseline", "oracle baseline"],
        run_rows(board)))
    return page(f"simbench leaderboard: {board.results_dir}", parts)
