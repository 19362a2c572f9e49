"""The glossary names every symbol reports print and every flag the metrics can raise."""

from __future__ import annotations

import re
from pathlib import Path

from simbench.metrics.run_summary import AdaptationRow, UnlearningRow
from simbench.reporting.glossary import FLAG_WORDS, GLOSSARY, flag_words
from simbench.reporting.run_notes import steps_words

METRICS = Path(__file__).resolve().parents[3] / "simbench" / "metrics"


def test_every_flag_the_metrics_raise_has_words():
    source = "\n".join(p.read_text() for p in METRICS.glob("*.py"))
    raised = set(re.findall(r'flags\.append\("([a-z_]+)"\)|return \["([a-z_]+)"\]', source))
    raised = {a or b for a, b in raised} | {"unreachable_at_token_cap"}
    assert raised and raised <= set(FLAG_WORDS), raised - set(FLAG_WORDS)


def test_every_symbol_has_a_formula_and_a_direction():
    symbols = {term.symbol for term in GLOSSARY}
    assert {"AULC", "U(t)", "ACC", "BWT", "F", "min-ACC", "specificity", "drift", "retained", "b", "c",
            "g(t)", "perseveration", "cost"} <= symbols
    for term in GLOSSARY:
        assert term.formula and term.better and term.meaning, term


def test_flags_read_as_words_and_steps_say_their_state():
    assert flag_words(["censored"]).startswith("threshold not reached")
    assert flag_words([]) == "–"
    assert steps_words(adaptation(flags=["censored"], censored=True, steps_to_threshold=6, n_probes=3)) \
        == "not reached in 6 (censored)"
    row = adaptation(flags=["censored", "too_few_probes_to_sustain"], censored=True, steps_to_threshold=6, n_probes=1)
    assert steps_words(row) == "not measurable (1 probe(s) in phase)"
    assert steps_words(adaptation(flags=["no_headroom"], b=1.0)) == "not applicable (no headroom)"
    row = UnlearningRow(preference="A", kind="flip", replaced_by="not_A", phase=1, start=10, end=20, b=0.0,
                        s_at_change=0.05, n_probes=2, steps_to_unlearn=None, censored=False, perseveration=None,
                        final_s=0.0, final_u=None, flags=["nothing_to_unlearn"], baseline_note="")
    assert steps_words(row, "steps_to_unlearn") == "not applicable (nothing to unlearn)"


def adaptation(**fields):
    """An adaptation row of a summary: the given fields over neutral defaults."""
    base = dict(phase=0, preference="A", start=0, end=10, b=0.0, c=1.0, n_probes=3, steps_to_threshold=None,
                censored=False, aulc=None, final_s=None, final_g=None, flags=[], baseline_note="",
                aulc_ci=[None, None], final_s_ci=[None, None])
    return AdaptationRow(**{**base, **fields})
