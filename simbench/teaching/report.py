"""teachability.md, teachability.json and teachability.png from measured rows, written
atomically (each file appears whole or not at all)."""

from __future__ import annotations

import io
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping, Sequence

from simbench.logs.io import dumps_strict, write_atomic
from simbench.reporting.plots import COLOURS
from simbench.teaching.rows import HINGES_ON_END_OF_TURN, VERDICTS, TeachabilityRow

FORMAT = 1


@dataclass(frozen=True)
class TeachabilityPaths:
    markdown: Path
    json: Path
    plot: Path


def teachability_json(rows: Sequence[TeachabilityRow], meta: Mapping[str, Any]) -> dict[str, Any]:
    return {"format": FORMAT, "meta": dict(meta), "rows": [row.to_dict() for row in rows]}


def teachability_markdown(rows: Sequence[TeachabilityRow], meta: Mapping[str, Any]) -> str:
    """The table a user reads before a long run, with the command and how to read it."""
    level = rows[0].micro.gap.level if rows else 0.95
    out = [
        f"# Teachability of `{meta.get('model', '?')}`",
        "",
        f"Command: `{meta.get('command', '')}`",
        "",
        f"{meta.get('probes')} held-out probe prompts (greedy), answers capped at "
        f"{meta.get('max_new_tokens')} tokens; micro-run: {meta.get('micro_steps')} SDPO token-level "
        f"update(s) of {meta.get('batch_size')} interactions per arm from the same start, seed "
        f"{meta.get('seed')}. Wall time {meta.get('seconds', '?')} s (model load "
        f"{meta.get('load_seconds', '?')} s).",
        "",
        f"| preference | frozen | reachable | mean\\|A\\| rel / unrel (wins) | end-of-turn shift rel / unrel "
        f"| micro rel / unrel | gap [{level:.0%} paired] | verdict |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        s, m = row.sensitivity, row.micro
        reach = "yes" if row.reachable else f"no (needs {row.min_tokens})"
        hinge = " *" if row.preference in HINGES_ON_END_OF_TURN else ""
        out.append(
            f"| `{row.preference}` | {row.frozen_adherence:.2f} | {reach} "
            f"| {_num(s.mean_abs_relevant, 3)} / {_num(s.mean_abs_unrelated, 3)} ({s.relevant_wins}/{s.cases}) "
            f"| {_signed(s.stop_shift_relevant)} / {_signed(s.stop_shift_unrelated)}{hinge} "
            f"| {m.relevant_adherence:.2f} / {m.unrelated_adherence:.2f} "
            f"| {m.gap.gap:+.2f} [{m.gap.low:+.2f}, {m.gap.high:+.2f}] | {row.verdict} |"
        )
    out += [
        "",
        "How to read it:",
        "- **frozen**: share of probe answers the unchanged model already passes (is there anything to learn?).",
        "- **reachable**: whether an answer within the token cap can pass at all (the preference's token floor).",
        "- **mean|A|**: mean absolute per-token hindsight advantage on the answers the first update trains on, "
        "with the user's follow-up (rel) vs an unrelated message (unrel); wins = answers where rel moved more.",
        "- **end-of-turn shift**: mean change of P(end of turn) right after each sentence end when the follow-up "
        "is in context; `*` marks preferences that hinge on that decision (length).",
        "- **micro**: held-out adherence after the micro-run with relevant vs unrelated follow-ups; **gap** is "
        "their difference paired by probe prompt, with a paired bootstrap interval "
        f"({rows[0].micro.gap.resamples if rows else 0} resamples).",
        "- **verdict**: " + "; ".join(f"`{k}`: {v}" for k, v in VERDICTS.items()) + ".",
        "",
    ]
    return "\n".join(out)


def teachability_png(rows: Sequence[TeachabilityRow], title: str) -> bytes:
    """Two panels per preference: adherence (frozen, micro-run unrelated, micro-run relevant)
    and the paired gap with its interval."""
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    names = [row.preference for row in rows]
    y = list(range(len(rows)))
    height = max(2.0, 0.45 * len(rows) + 1.2)
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, height), sharey=True,
                                      gridspec_kw={"width_ratios": [3, 2]})
    bars = (("frozen", [r.frozen_adherence for r in rows]),
            ("unrelated follow-ups", [r.micro.unrelated_adherence for r in rows]),
            ("relevant follow-ups", [r.micro.relevant_adherence for r in rows]))
    width = 0.8 / len(bars)
    for i, (label, values) in enumerate(bars):
        left.barh([v + (i - 1) * width for v in y], values, height=width, color=COLOURS[i], label=label)
    left.set_xlim(0, 1)
    left.set_xlabel("held-out adherence")
    left.set_yticks(y, names)
    left.invert_yaxis()
    left.legend(loc="lower left", bbox_to_anchor=(0, 1.0), ncol=3, fontsize=8, frameon=False)
    gaps = [r.micro.gap for r in rows]
    right.errorbar([g.gap for g in gaps], y, xerr=[[g.gap - g.low for g in gaps], [g.high - g.gap for g in gaps]],
                   fmt="o", color=COLOURS[3], capsize=3)
    right.axvline(0, color="grey", linewidth=0.8, linestyle="--")
    right.set_xlim(-1, 1)
    right.set_xlabel("gap relevant − unrelated (paired)")
    right.set_title(title, fontsize=10)
    buffer = io.BytesIO()
    try:
        fig.savefig(buffer, format="png", dpi=100, bbox_inches="tight", metadata={"Software": None})
    finally:
        plt.close(fig)
    return buffer.getvalue()


def write_teachability(out: Path, rows: Sequence[TeachabilityRow], meta: Mapping[str, Any]) -> TeachabilityPaths:
    """Render everything first, then write each file atomically (nothing half-written)."""
    paths = TeachabilityPaths(out / "teachability.md", out / "teachability.json", out / "teachability.png")
    rendered = (
        (paths.json, dumps_strict(teachability_json(rows, meta), indent=2) + "\n"),
        (paths.markdown, teachability_markdown(rows, meta)),
        (paths.plot, teachability_png(rows, f"teachability of {meta.get('model', '?')}")),
    )
    for path, content in rendered:
        write_atomic(path, content)
    return paths


def _num(value: float, digits: int) -> str:
    return "n/a" if not math.isfinite(value) else f"{value:.{digits}f}"


def _signed(value: float) -> str:
    return "n/a" if not math.isfinite(value) else f"{value:+.3f}"
