"""How far to trust the judge: its verdicts on the *verifiable* preferences against the checkers.

A run report given a judge asks it about the preferences a checker decides, on the run's own
probe answers, and reports:
- rubric agreement: the judge's YES/NO on each (last-probe answer, preference) against the
  checker, with the share it could not read;
- pairwise agreement: for each probe prompt and preference where the checker passes exactly
  one of the first- and last-probe answers, whether the judge (both orders, disagreement =
  tie) picks the passing one, and its position-bias rate (the same slot picked in both
  orders, whatever the answers).
The judge sees each preference's description as its criterion, as it does for rubrics.
"""

from __future__ import annotations

from typing import Any

from simbench.judge import position_bias
from simbench.persona.library import BUILTIN
from simbench.reporting.format import Section, fmt
from simbench.reporting.win_rate import win_rate_cell


def _share(hits: int, n: int) -> float | None:
    return hits / n if n else None


def calibrate(logs: Any, judge: Any) -> dict[str, Any] | None:
    """Agreement of `judge` with the checkers on the run's verifiable preferences, pooled and
    per preference (None when the run has no verifiable preference or no probe)."""
    if not logs.probes:
        return None
    ever = [pid for pid in (logs.manifest.get("persona") or {}).get("ever", [])
            if pid in BUILTIN and BUILTIN[pid].verifiable]
    times = sorted({r.t for r in logs.probes})
    first = {r.probe_id: r for r in logs.probes if r.t == times[0]}
    last = {r.probe_id: r for r in logs.probes if r.t == times[-1]}
    points = [(pid, r) for pid in ever for r in last.values() if r.checks.get(pid) is not None]
    if not points:
        return None
    verdicts = judge.score_many([(r.prompt, r.response, BUILTIN[pid].description) for pid, r in points])
    scored = [(pid, v.passed, r.checks[pid].passed) for (pid, r), v in zip(points, verdicts)]
    told_apart = [(pid, end, first[probe_id]) for pid in ever for probe_id, end in last.items()
                  if probe_id in first and pid in end.checks and pid in first[probe_id].checks
                  and end.checks[pid].passed != first[probe_id].checks[pid].passed]
    pairs = []
    for pid, end, start in told_apart:
        passing, failing = (end, start) if end.checks[pid].passed else (start, end)
        pairs.append((end.prompt, passing.response, failing.response, BUILTIN[pid].description))
    compared = judge.compare_many(pairs) if pairs else []
    judged = [(pid, r) for (pid, _, _), r in zip(told_apart, compared)]
    by_preference = {pid: _agreement([x for x in scored if x[0] == pid], [x for x in judged if x[0] == pid])
                     for pid in ever}
    return {"preferences": ever, **_agreement(scored, judged), "by_preference": by_preference,
            "judge": judge.identity()}


def _agreement(scored: list[tuple[str, Any, Any]], judged: list[tuple[str, Any]]) -> dict[str, Any]:
    readable = [(v, c) for _, v, c in scored if v is not None]
    results = [r for _, r in judged]
    return {
        "rubric": {"n": len(scored), "unreadable": len(scored) - len(readable),
                   "agreement": _share(sum(v == c for v, c in readable), len(readable)),
                   # what a judge answering always YES would agree on: read agreement beside it
                   "checker_pass": _share(sum(bool(c) for _, c in readable), len(readable))},
        "pairwise": {"n": len(results),
                     "agreement": _share(sum(r.winner == "current" for r in results), len(results)),
                     "ties": _share(sum(r.winner == "tie" for r in results), len(results)),
                     "position_bias": position_bias(results) if results else None},
    }


def judged(logs: Any, frozen: Any, judge: Any) -> dict[str, Any] | None:
    """What a run report shows with a judge: its calibration, and the run's win rate against
    its frozen baseline (reporting/win_rate.py) when it has one and is not frozen itself."""
    out = calibrate(logs, judge)
    if frozen is not None and logs.learner != "frozen" and frozen.run_dir != logs.run_dir:
        out = {**(out or {"judge": judge.identity(), "preferences": []}),
               "win_rate": win_rate_cell([(logs.seed, logs, frozen)], judge)}
    return out


def calibration_sections(calibration: dict[str, Any] | None) -> list[Section]:
    """The run report's judge table: win rate against frozen, calibration (none without a judge)."""
    if calibration is None:
        return []
    sections = []
    win = calibration.get("win_rate")
    if win is not None:
        sections.append(Section(
            "Win rate against the frozen model (judged pairwise, both orders, ties half)",
            ["win rate", "95% CI", "n pairs", "ties", "position bias"],
            [[fmt(win["mean"]), f"[{fmt(win['lo'])}, {fmt(win['hi'])}]", str(win["pairs"]), fmt(win["ties"]),
              fmt(win["position_bias"])]],
            notes=[f"{win['method']}; 0.50 = no better than frozen. Trust it only as far as the "
                   "calibration below allows."], numeric_from=0))
    if "rubric" not in calibration:
        return sections
    rubric, pairwise = calibration["rubric"], calibration["pairwise"]
    rows = [["rubric verdict = checker", fmt(rubric["agreement"]), str(rubric["n"] - rubric["unreadable"])],
            ["pairwise pick = checker's passing answer", fmt(pairwise["agreement"]), str(pairwise["n"])],
            ["pairwise ties", fmt(pairwise["ties"]), str(pairwise["n"])],
            ["position bias (same slot both orders)", fmt(pairwise["position_bias"]), str(pairwise["n"])]]
    return sections + [Section("Judge calibration on the verifiable preferences", ["measure", "rate", "n"], rows,
                               notes=calibration_lines(calibration))]


def calibration_lines(calibration: dict[str, Any] | None) -> list[str]:
    """The report's sentences about the judge's calibration (empty without one)."""
    if calibration is None or "rubric" not in calibration:
        return []
    rubric, pairwise = calibration["rubric"], calibration["pairwise"]
    judge = calibration["judge"]
    lines = [f"Judge {judge.get('model')} at {judge.get('base_url')} (templates {judge.get('template_hash', '')[:12]}), "
             f"checked on the verifiable preferences {', '.join(calibration['preferences'])}."]
    if rubric["agreement"] is not None:
        lines.append(f"Rubric verdicts agree with the checkers on {rubric['agreement']:.2f} of "
                     f"{rubric['n'] - rubric['unreadable']} last-probe answers ({rubric['unreadable']} unreadable).")
    else:
        lines.append(f"No readable rubric verdict among {rubric['n']} last-probe answers.")
    if pairwise["n"]:
        lines.append(f"Pairwise, on {pairwise['n']} (first, last) answer pairs the checkers tell apart, the judge "
                     f"picks the passing answer in {pairwise['agreement']:.2f} (ties {pairwise['ties']:.2f}); "
                     f"position-bias rate {pairwise['position_bias']:.2f} (same slot in both orders).")
    else:
        lines.append("No (first, last) answer pair that the checkers tell apart: pairwise agreement not measured.")
    return lines
