"""Signal analysis: how much a follow-up moves each response token's log-prob (A_t), relevant vs
unrelated follow-ups, and how it moves the stop-or-continue decision after every sentence end.

Measured on SmolLM2 (docs/LOG.md, 2026-11-26): its real hindsight signal sits on ending the
turn, not on the tokens that break a preference, so the end-of-turn probability shift is reported next to mean |A|.
"""

from __future__ import annotations

import math
import re
from dataclasses import asdict, dataclass, field
from typing import Any, Callable, Protocol, Sequence

from sdpo.hindsight import (
    DEFAULT_HINDSIGHT_TEMPLATE,
    HindsightSample,
    build_contexts,
    end_of_turn_id,
    response_batch,
)
from sdpo.offline import encode_response
from sdpo.scoring import TokenScores, pad_token_id, response_logits

SIGNAL_FORMAT = 1

# A sentence ends in . ! ? or … possibly followed by closing quotes, brackets or markdown.
_SENTENCE_END = re.compile(r"[.!?\u2026][\"')\]\u201d\u2019*_]*$")
# "1." / "2)" opening a list item, and single-letter abbreviations ("e.g.", "U.S."), are not ends.
_LIST_MARKER = re.compile(r"(?:^|\n)[ \t]*\d+[.)]$")
_INITIAL = re.compile(r"(?:^|[\s(.])[A-Za-z]\.$")


class SignalCaseLike(Protocol):
    """What a case must provide (simbench's `SignalCase` fits)."""

    @property
    def id(self) -> str: ...
    @property
    def preference(self) -> str: ...
    @property
    def kind(self) -> str: ...
    @property
    def prompt(self) -> str: ...
    @property
    def response(self) -> str: ...
    @property
    def relevant(self) -> str: ...
    @property
    def unrelated(self) -> str: ...


@dataclass(frozen=True)
class DecisionPoint:
    """The end-of-turn probability after `position` response tokens (right after a sentence
    end, or at the end of the response) under the plain, relevant and unrelated contexts."""

    position: int
    p_plain: float
    p_relevant: float
    p_unrelated: float


@dataclass(frozen=True)
class CaseSignal:
    """Everything measured on one case. `relevant_advantages[t]` is A_t with the relevant
    follow-up in hindsight (teacher − student log-prob); `pieces[t]` is token t's display text."""

    id: str
    preference: str
    kind: str
    prompt: str
    response: str
    relevant: str
    unrelated: str
    token_ids: list[int]
    pieces: list[str]
    student_logprobs: list[float]
    relevant_advantages: list[float]
    unrelated_advantages: list[float]
    decisions: list[DecisionPoint] = field(default_factory=list)

    @property
    def mean_abs_relevant(self) -> float:
        return mean_abs(self.relevant_advantages)

    @property
    def mean_abs_unrelated(self) -> float:
        return mean_abs(self.unrelated_advantages)

    @property
    def stop_shift_relevant(self) -> float:
        """Mean change of P(end of turn) at the decision points, relevant follow-up vs none."""
        return _mean([d.p_relevant - d.p_plain for d in self.decisions])

    @property
    def stop_shift_unrelated(self) -> float:
        return _mean([d.p_unrelated - d.p_plain for d in self.decisions])

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out.update(
            mean_abs_relevant=_finite(self.mean_abs_relevant),
            mean_abs_unrelated=_finite(self.mean_abs_unrelated),
            stop_shift_relevant=_finite(self.stop_shift_relevant),
            stop_shift_unrelated=_finite(self.stop_shift_unrelated),
        )
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "CaseSignal":
        """Rebuild from `to_dict()` output (derived statistics are recomputed, not trusted)."""
        names = [f for f in cls.__dataclass_fields__ if f != "decisions"]
        decisions = [DecisionPoint(**d) for d in data.get("decisions", [])]
        return cls(**{n: data[n] for n in names}, decisions=decisions)


@dataclass(frozen=True)
class SignalSummary:
    """Aggregates over cases, each case weighted equally (a long response does not dominate).

    `ratio` is mean |A| relevant / unrelated (None when the unrelated mean is 0);
    `relevant_wins` counts cases whose mean |A| is strictly larger under the relevant follow-up.
    """

    cases: int
    mean_abs_relevant: float
    mean_abs_unrelated: float
    ratio: float | None
    relevant_wins: int
    stop_shift_relevant: float
    stop_shift_unrelated: float
    by_preference: dict[str, "SignalSummary"] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        out = {k: _finite(v) if isinstance(v, float) else v for k, v in asdict(self).items() if k != "by_preference"}
        out["by_preference"] = {k: v.to_dict() for k, v in self.by_preference.items()}
        return out


# ---------------------------------------------------------------------------- pure analysis


def mean_abs(values: Sequence[float]) -> float:
    """Mean of |v| over finite values; NaN when there are none."""
    return _mean([abs(v) for v in values])


def decision_positions(pieces: Sequence[str]) -> list[int]:
    """Response positions t where the model chose whether to end its turn after `pieces[:t]`.

    `pieces` is the display text of the response tokens WITHOUT the end-of-turn token. A
    position counts when the text so far ends a sentence and the next text (if any) starts
    with whitespace (so "3.5" and "e.g." are no ends); the end of the response always counts.
    """
    n = len(pieces)
    positions = []
    text = ""
    for t in range(1, n + 1):
        text += pieces[t - 1]
        if not pieces[t - 1].strip():
            continue  # whitespace-only: the decision sat before it
        core = text.rstrip()
        if not _SENTENCE_END.search(core) or _LIST_MARKER.search(core) or _INITIAL.search(core):
            continue
        following = next((p for p in pieces[t:] if p), "")
        if text != core or not following or following[0].isspace():
            positions.append(t)
    if n and (not positions or positions[-1] != n):
        positions.append(n)
    return positions


def case_signal(
    case: SignalCaseLike,
    relevant: TokenScores,
    unrelated: TokenScores,
    pieces: Sequence[str],
    decisions: Sequence[DecisionPoint],
) -> CaseSignal:
    """Combine a case's two `TokenScores` (same response, two follow-ups) and decision points."""
    if relevant.token_ids != unrelated.token_ids:
        raise ValueError(f"case {case.id!r}: relevant and unrelated scores cover different tokens")
    if len(pieces) != len(relevant.token_ids):
        raise ValueError(f"case {case.id!r}: {len(pieces)} display pieces for {len(relevant.token_ids)} tokens")
    return CaseSignal(
        id=case.id,
        preference=case.preference,
        kind=case.kind,
        prompt=case.prompt,
        response=case.response,
        relevant=case.relevant,
        unrelated=case.unrelated,
        token_ids=list(relevant.token_ids),
        pieces=list(pieces),
        student_logprobs=list(relevant.student_logprobs),
        relevant_advantages=list(relevant.advantages),
        unrelated_advantages=list(unrelated.advantages),
        decisions=list(decisions),
    )


def summarise(cases: Sequence[CaseSignal], group: bool = True) -> SignalSummary:
    """Aggregate `cases`; with `group`, also per preference (in first-seen order)."""
    rel = _mean([c.mean_abs_relevant for c in cases])
    unrel = _mean([c.mean_abs_unrelated for c in cases])
    by_preference: dict[str, SignalSummary] = {}
    if group:
        for name in dict.fromkeys(c.preference for c in cases):
            by_preference[name] = summarise([c for c in cases if c.preference == name], group=False)
    return SignalSummary(
        cases=len(cases),
        mean_abs_relevant=rel,
        mean_abs_unrelated=unrel,
        ratio=rel / unrel if math.isfinite(rel) and math.isfinite(unrel) and unrel > 0 else None,
        relevant_wins=sum(c.mean_abs_relevant > c.mean_abs_unrelated for c in cases),
        stop_shift_relevant=_mean([c.stop_shift_relevant for c in cases]),
        stop_shift_unrelated=_mean([c.stop_shift_unrelated for c in cases]),
        by_preference=by_preference,
    )


def summary_line(summary: SignalSummary) -> str:
    """The one-line result: `signal: mean|A| relevant=... unrelated=... ratio=...; ...`."""
    ratio = "n/a" if summary.ratio is None else f"{summary.ratio:.2f}"
    return (
        f"signal: mean|A| relevant={summary.mean_abs_relevant:.4f} "
        f"unrelated={summary.mean_abs_unrelated:.4f} ratio={ratio}; "
        f"relevant>unrelated in {summary.relevant_wins}/{summary.cases} cases; "
        f"stop-decision shift relevant={summary.stop_shift_relevant:+.4f} "
        f"unrelated={summary.stop_shift_unrelated:+.4f}"
    )


def preference_line(name: str, summary: SignalSummary) -> str:
    """One preference's numbers, in the same order as `summary_line`."""
    ratio = "n/a" if summary.ratio is None else f"{summary.ratio:.2f}"
    return (
        f"  {name} (n={summary.cases}): mean|A| {summary.mean_abs_relevant:.4f} vs "
        f"{summary.mean_abs_unrelated:.4f} (ratio {ratio}, wins {summary.relevant_wins}/{summary.cases}); "
        f"stop shift {summary.stop_shift_relevant:+.4f} vs {summary.stop_shift_unrelated:+.4f}"
    )


# ---------------------------------------------------------------------------- model passes


def display_pieces(tokenizer: Any, token_ids: Sequence[int]) -> list[str]:
    """Text each token adds to the decoded response; a character split over several byte
    tokens shows up whole on the token that completes it (the others get "")."""
    pieces, emitted = [], ""
    for i in range(len(token_ids)):
        text = tokenizer.decode(list(token_ids[: i + 1]), clean_up_tokenization_spaces=False)
        if text.endswith("\ufffd") and i + 1 < len(token_ids):
            pieces.append("")
            continue
        pieces.append(text[len(emitted):] if text.startswith(emitted) else tokenizer.decode([token_ids[i]]))
        emitted = text
    return pieces


def analyse_case(
    model: Any,
    tokenizer: Any,
    case: SignalCaseLike,
    template: str = DEFAULT_HINDSIGHT_TEMPLATE,
    eot_id: int | None = None,
) -> CaseSignal:
    """Score one case: per-token A under both follow-ups and P(end of turn) at every decision
    point under all three contexts.

    One batched forward over (plain, relevant, unrelated) serves both: it gives the same
    numbers as `hindsight_token_scores` + `full_distribution_at` with 3 sequence passes instead
    of 7 (their student pass is repeated per follow-up and per call).
    """
    import torch

    eot = end_of_turn_id(tokenizer) if eot_id is None else eot_id
    messages = [{"role": "user", "content": case.prompt}]
    ids = encode_response(tokenizer, case.response, eot)
    rel = build_contexts(tokenizer, HindsightSample(messages, ids, case.relevant), template)
    unrel = build_contexts(tokenizer, HindsightSample(messages, ids, case.unrelated), template)
    batch = response_batch(
        [rel.student_ids, rel.teacher_ids, unrel.teacher_ids],
        [rel.student_prompt_len, rel.teacher_prompt_len, unrel.teacher_prompt_len],
        pad_token_id(tokenizer),
    )
    with torch.no_grad():
        logprobs = response_logits(model, batch).float().log_softmax(-1)
    targets = batch.targets.to(logprobs.device)
    token_lp = logprobs.gather(-1, targets.unsqueeze(-1)).squeeze(-1).double().tolist()
    pieces = display_pieces(tokenizer, ids)
    positions = decision_positions(pieces[:-1])
    # Row t of the logits predicts response token t, i.e. what follows response_ids[:t].
    stop = logprobs[:, positions, eot].exp().tolist() if positions else [[], [], []]
    decisions = [DecisionPoint(p, *values) for p, values in zip(positions, zip(*stop))]
    student, teacher_rel, teacher_unrel = token_lp
    tokens = [tokenizer.decode([i]) for i in ids]
    relevant = TokenScores(ids, tokens, student, teacher_rel, [t - s for t, s in zip(teacher_rel, student)])
    unrelated = TokenScores(ids, tokens, student, teacher_unrel, [t - s for t, s in zip(teacher_unrel, student)])
    return case_signal(case, relevant, unrelated, pieces, decisions)


def analyse_cases(
    model: Any,
    tokenizer: Any,
    cases: Sequence[SignalCaseLike],
    template: str = DEFAULT_HINDSIGHT_TEMPLATE,
    on_case: Callable[[int, CaseSignal], None] | None = None,
) -> list[CaseSignal]:
    """`analyse_case` for every case; `on_case(index, result)` reports progress."""
    eot = end_of_turn_id(tokenizer)
    results = []
    for index, case in enumerate(cases):
        results.append(analyse_case(model, tokenizer, case, template, eot))
        if on_case is not None:
            on_case(index, results[-1])
    return results


def _mean(values: Sequence[float]) -> float:
    finite = [v for v in values if math.isfinite(v)]
    return sum(finite) / len(finite) if finite else float("nan")


def _finite(value: float | None) -> float | None:
    # JSON has no NaN/inf: write null instead.
    return value if value is None or math.isfinite(value) else None
