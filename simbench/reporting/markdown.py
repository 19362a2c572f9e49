"""Markdown renderings of reports: tables with escaped cells and fenced blocks for long text.

Table cells are HTML-escaped (a markdown viewer may render inline HTML) and have their pipes
and line breaks neutralised; model and user text goes into fences longer than any backtick
run inside it, so nothing in it is interpreted.
"""

from __future__ import annotations

import html
import re
from typing import Any, Iterable, Sequence

from simbench.persona.scenario import SCENARIO_WORDS
from simbench.reporting.calibration import calibration_sections
from simbench.reporting.flip_report import flip_verdict_lines
from simbench.reporting.format import Section, fmt, fmt_interval, joined
from simbench.reporting.leaderboard_schema import Cell, Leaderboard, MetricCell, PairedCell, Provenance, WinRateCell
from simbench.reporting.pairs import pair_sections, signed_interval
from simbench.reporting.rubric import rubric_lines
from simbench.reporting.run_notes import (
    gate_note,
    glossary_sections,
    schedule_section,
    user_quality_section,
)
from simbench.reporting.run_report import (
    RunReport,
    adherence_section,
    general_count,
    metric_sections,
    run_facts,
    run_title,
    run_warnings,
)


def md_cell(value: Any) -> str:
    """A table cell: one line, `<`/`>`/`&` escaped (no tag can form, so quotes stay readable),
    pipes escaped."""
    text = html.escape(str(value), quote=False)
    return " ".join(text.split()).replace("|", "\\|")


def md_table(headers: Sequence[Any], rows: Iterable[Sequence[Any]]) -> str:
    lines = ["| " + " | ".join(md_cell(h) for h in headers) + " |",
             "|" + "|".join("---" for _ in headers) + "|"]
    lines += ["| " + " | ".join(md_cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def fenced(text: str, info: str = "text") -> str:
    """`text` verbatim in a code fence that no backtick run inside it can close."""
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}{info}\n{text}\n{fence}"


def section_markdown(section: Section, level: int = 3) -> str:
    parts = [f"{'#' * level} {md_cell(section.title)}", "", md_table(section.headers, section.rows)]
    parts += [""] + [f"- {md_cell(note)}" for note in section.notes] if section.notes else []
    return "\n".join(parts)


def run_report_markdown(report: RunReport) -> str:
    """report.md: facts, baselines, adherence table, metrics, interactions, token signals."""
    out = [f"# {md_cell(run_title(report.manifest))}", ""]
    warnings = run_warnings(report)
    if warnings:
        out += ["## Warnings", ""] + [f"- **warning:** {md_cell(w)}" for w in warnings] + [""]
    out += [md_table(["", ""], run_facts(report)), ""]
    opposites = (report.manifest.get("persona") or {}).get("opposites") or {}
    out += [section_markdown(schedule_section(report.summary, opposites), level=2), ""]
    baselines = report.baselines.describe(report.run_dir)
    out += ["## Baselines", ""] + [f"- {md_cell(line)}" for line in baselines] + [""]
    judged = rubric_lines(report.rubric, report.summary.not_scored)
    if judged:
        out += ["## Judge-scored preferences", ""] + [f"- {md_cell(line)}" for line in judged] + [""]
    out += ["## Adherence", "", "The HTML report plots these curves with the phase switches marked.", ""]
    out += [section_markdown(adherence_section(report.summary)), ""]
    out += ["## Metrics", ""]
    for section in pair_sections(report.pairs) + calibration_sections(report.calibration) + metric_sections(report.summary, general_count(report.manifest)):
        out += [section_markdown(section), ""]
    out += [section_markdown(user_quality_section(report.summary)), ""]
    out += ["## Interactions", ""]
    if not report.interactions:
        out += ["No interactions were logged.", ""]
    for record in report.interactions:
        out += interaction_markdown(record)
    if report.probe_examples:
        out += ["## Probe answers at the first and last probe", ""]
        for probe in report.probe_examples:
            failed = [pid for pid, check in probe.checks.items() if check.passed is False]
            out += [f"**{md_cell(probe.probe_id)} at t={probe.t}** "
                    f"(fails: {md_cell(', '.join(failed) or 'none')})", "",
                    fenced(probe.response), ""]
    out += ["## Per-token advantages", ""]
    if not report.signals:
        out += ["This run logged no token signals (only SDPO learners write signals.jsonl).", ""]
    for signal in report.signals:
        out += signal_markdown(signal)
    out += ["## Glossary", ""] + glossary_markdown(glossary_sections())
    return "\n".join(out).rstrip() + "\n"


def glossary_markdown(sections: Sequence[Section]) -> list[str]:
    """The glossary and flag tables (the same in run reports and leaderboards)."""
    out: list[str] = []
    for section in sections:
        out += [section_markdown(section), ""]
    return out


def interaction_markdown(record: Any) -> list[str]:
    prompt = record.messages[-1]["content"] if record.messages else ""
    head = (f"### t={record.t}, turn {record.turn} · active: {', '.join(record.active) or 'none'}"
            f" · reacted to: {', '.join(record.violated) or 'nothing'}"
            + (" · irrelevant by design" if record.irrelevant else "") + gate_note(record))
    return [md_cell(head), "", "Prompt:", "", fenced(prompt), "",
            "Response:", "", fenced(record.response), "", "Follow-up:", "", fenced(record.follow_up), ""]


def signal_markdown(signal: dict[str, Any], top: int = 5) -> list[str]:
    """The follow-up, and the tokens with the most negative and most positive advantages."""
    pairs = [(a, tok) for tok, a in zip(signal["tokens"], signal["advantages"])]
    lowest = sorted(pairs)[:top]
    highest = sorted(pairs, reverse=True)[:top]

    def show(items: list[tuple[float, str]]) -> str:
        return ", ".join(f"{md_cell(repr(tok))} {a:+.3f}" for a, tok in items) or "none"

    return [f"### update {signal.get('update', '?')}, interaction t={signal.get('t', '?')}", "",
            "Follow-up:", "", fenced(str(signal.get("follow_up", ""))), "",
            f"- most negative: {show(lowest)}", f"- most positive: {show(highest)}", ""]


def leaderboard_cell(stats: Cell | None) -> str:
    """"mean [lo, hi]" of a leaderboard cell, "–" when the metric does not apply; a paired
    difference also shows its n and minimum detectable difference."""
    if stats is None:
        return "–"
    if isinstance(stats, MetricCell) and stats.not_scored:  # judge-scored wishes nobody scored
        return stats.not_scored
    if isinstance(stats, PairedCell):
        return f"{signed_interval(stats.mean, stats.lo, stats.hi)} (n={stats.n}, MDD {fmt(stats.mdd)})"
    if isinstance(stats, WinRateCell):  # n pairs, ties counted half
        return f"{fmt_interval(stats.mean, stats.lo, stats.hi)} (n={stats.pairs}, ties {fmt(stats.ties)})"
    return fmt_interval(stats.mean, stats.lo, stats.hi)


def leaderboard_tables(board: Leaderboard) -> list[tuple[str, list[str], list[list[str]]]]:
    """One (scenario, headers, rows) table per scenario type: learner, model, then its metrics."""
    tables = []
    for scenario in dict.fromkeys(c.scenario for c in board.columns):
        metrics = [c.metric for c in board.columns if c.scenario == scenario]
        rows = [[row.learner, row.model]
                + [leaderboard_cell(row.cells[scenario][m]) for m in metrics]
                for row in board.rows]
        tables.append((scenario, ["learner", "model", *metrics], rows))
    return tables


def judge_scored_words(scored: dict[str, list[str]]) -> str:
    """"poetic by m at http://… (scored after the run)": which judge scored which preferences."""
    return "; ".join(f"{', '.join(prefs)} by {name}" for name, prefs in scored.items())


def scenario_heading(scenario: str) -> str:
    """"flip (a preference is replaced by its opposite)": the type and what it means."""
    words = SCENARIO_WORDS.get(scenario)
    return f"{scenario} ({words})" if words else scenario


def leaderboard_markdown(board: Leaderboard) -> str:
    """leaderboard.md: the table, what each metric means, provenance and caveats."""
    seeds = board.provenance.seeds
    out = [f"# simbench leaderboard: {md_cell(board.results_dir)}", "",
           f"Mean [95% CI] over {len(seeds)} seed(s) ({md_cell(', '.join(map(str, seeds)))}); "
           "each seed's value is the mean over its personas of that scenario type.", ""]
    for scenario, headers, rows in leaderboard_tables(board):
        out += [f"## Scenario: {md_cell(scenario_heading(scenario))}", "", md_table(headers, rows), ""]
    if flip_verdict_lines(board):
        out += ["## Flip verdicts", ""] + [f"- {md_cell(line)}" for line in flip_verdict_lines(board)] + [""]
    out += ["## Metrics", ""]
    out += [f"- **{name}**: {md_cell(text)}" for name, text in board.metrics.items()]
    out += ["", "## Glossary", ""] + glossary_markdown(glossary_sections())
    out += ["", "## Provenance", ""]
    for key, values in provenance_lists(board.provenance):
        out.append(f"- {key}: {md_cell(values)}")
    out.append("- persona hashes: " + md_cell(joined(board.provenance.persona_hashes)))
    out.append("- versions: " + md_cell(joined(board.provenance.versions)))
    if board.provenance.judge_scored:
        out.append("- judge-scored preferences: " + md_cell(judge_scored_words(board.provenance.judge_scored)))
    if board.notes:
        out += ["", "## Notes", ""] + [f"- {md_cell(note)}" for note in board.notes]
    out += ["", "## Runs", "", md_table(
        ["run", "persona", "learner", "seed", "scenario", "frozen baseline", "oracle baseline"],
        run_rows(board))]
    return "\n".join(out) + "\n"


def provenance_lists(prov: Provenance) -> list[tuple[str, str]]:
    """(what, comma-separated values) of the provenance facts that are plain lists."""
    return [("simulator", ", ".join(prov.simulator)), ("judge", ", ".join(prov.judge)),
            ("model", ", ".join(prov.model)), ("git commit", ", ".join(prov.git_commit)),
            ("seeds", ", ".join(map(str, prov.seeds)))]


def run_rows(board: Leaderboard) -> list[list[Any]]:
    """The board's runs table: run, persona, learner, seed, scenario and its baselines."""
    return [[r.run, r.persona, r.learner, r.seed, r.scenario, r.frozen_baseline or "none",
             r.oracle_baseline or "none"] for r in board.runs]
