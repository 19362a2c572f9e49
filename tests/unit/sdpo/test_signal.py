"""Signal analysis: decision points, per-case and summary numbers, the model passes behind them
(tiny random Llama), and the HTML/PNG/JSON report (escaping, round trip)."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass

import pytest
import torch

from sdpo.hindsight import HindsightSample
from sdpo.offline import encode_response, end_of_turn_id
from sdpo.scoring import TokenScores, full_distribution_at, hindsight_token_scores
from sdpo.signal import (
    CaseSignal,
    DecisionPoint,
    analyse_case,
    case_signal,
    decision_positions,
    display_pieces,
    mean_abs,
    summarise,
    summary_line,
)
from sdpo.signal_report import advantage_colour, colour_cap, read_signals, render_html, write_report


@dataclass(frozen=True)
class Case:
    id: str = "c1"
    preference: str = "concise"
    kind: str = "constraining"
    prompt: str = "Why is the sky blue?"
    response: str = "Sunlight scatters off air. Blue light scatters most. So the sky looks blue."
    relevant: str = "Too long. One sentence please."
    unrelated: str = "What's the capital of Peru?"


def signal(case_id, preference, rel, unrel, decisions=()):
    n = len(rel)
    return CaseSignal(
        id=case_id, preference=preference, kind="constraining", prompt="p", response="r",
        relevant="o+", unrelated="o-", token_ids=list(range(n)), pieces=["t"] * n,
        student_logprobs=[-1.0] * n, relevant_advantages=list(rel), unrelated_advantages=list(unrel),
        decisions=list(decisions),
    )


# ---------------------------------------------------------------------------- decision points


def test_decision_points_are_sentence_ends_followed_by_space_plus_the_end_of_the_response():
    pieces = ["Hello", " there", ".", " It", " is", " ", "3", ".", "5", " km", "!", " Bye"]
    assert decision_positions(pieces) == [3, 11, 12]


def test_abbreviations_list_markers_and_whitespace_tokens_are_not_decision_points():
    pieces = ["Use", " e", ".", "g", ".", " salt", ".", "\n", "\n", "1", ".", " Mix", ".", "\n", "2", ")", " Bake"]
    # "e.g." and the list markers "1." / "2)" are skipped; the newlines after "salt." are not
    # separate decisions; "Mix." before a newline is one.
    assert decision_positions(pieces) == [7, 13, 17]


def test_closing_quotes_and_brackets_after_the_stop_still_end_the_sentence():
    pieces = ["He", " said", ' "', "Stop", '."', " Then", " left", " (", "fast", ".)", " End"]
    assert decision_positions(pieces) == [5, 10, 11]


def test_a_response_that_ends_mid_sentence_still_gets_its_end_as_decision_point():
    assert decision_positions(["no", " stop", " here"]) == [3]
    assert decision_positions([]) == []


def test_display_pieces_rebuild_the_text_and_keep_multibyte_characters_whole(smol_tokenizer):
    text = "Fine 😊 café. Ok"
    ids = smol_tokenizer.encode(text, add_special_tokens=False)
    pieces = display_pieces(smol_tokenizer, ids)
    assert len(pieces) == len(ids)
    assert "".join(pieces) == text
    assert "\ufffd" not in "".join(pieces)
    assert any("😊" in p for p in pieces)


# ---------------------------------------------------------------------------- numbers


def test_mean_abs_ignores_non_finite_values():
    assert mean_abs([1.0, -3.0, float("nan")]) == pytest.approx(2.0)
    assert math.isnan(mean_abs([]))


def test_stop_shift_is_the_mean_change_of_end_probability_over_decision_points():
    points = [DecisionPoint(3, 0.1, 0.4, 0.2), DecisionPoint(9, 0.5, 0.6, 0.3)]
    case = signal("a", "concise", [0.1], [0.1], points)
    assert case.stop_shift_relevant == pytest.approx(((0.4 - 0.1) + (0.6 - 0.5)) / 2)
    assert case.stop_shift_unrelated == pytest.approx(((0.2 - 0.1) + (0.3 - 0.5)) / 2)


def test_summary_weights_cases_equally_counts_strict_wins_and_groups_by_preference():
    cases = [
        signal("a", "concise", [1.0, -1.0, 1.0, 1.0], [0.5, 0.5, 0.5, 0.5], [DecisionPoint(4, 0.1, 0.3, 0.1)]),
        signal("b", "concise", [0.2], [0.4], [DecisionPoint(1, 0.5, 0.5, 0.6)]),
        signal("c", "emoji", [-0.3, 0.3], [0.3, -0.3], [DecisionPoint(2, 0.2, 0.2, 0.2)]),
    ]
    s = summarise(cases)
    assert s.cases == 3
    assert s.mean_abs_relevant == pytest.approx((1.0 + 0.2 + 0.3) / 3)
    assert s.mean_abs_unrelated == pytest.approx((0.5 + 0.4 + 0.3) / 3)
    assert s.ratio == pytest.approx(1.5 / 1.2)
    assert s.relevant_wins == 1  # the tie in case c is not a win
    assert s.stop_shift_relevant == pytest.approx((0.2 + 0.0 + 0.0) / 3)
    assert s.stop_shift_unrelated == pytest.approx((0.0 + 0.1 + 0.0) / 3)
    assert list(s.by_preference) == ["concise", "emoji"]
    assert s.by_preference["concise"].relevant_wins == 1 and s.by_preference["concise"].cases == 2
    assert s.by_preference["emoji"].ratio == pytest.approx(1.0)


def test_summary_line_has_the_documented_shape_and_values():
    cases = [signal("a", "x", [0.5], [0.25], [DecisionPoint(1, 0.1, 0.3, 0.15)])]
    line = summary_line(summarise(cases))
    assert line == (
        "signal: mean|A| relevant=0.5000 unrelated=0.2500 ratio=2.00; relevant>unrelated in 1/1 cases; "
        "stop-decision shift relevant=+0.2000 unrelated=+0.0500"
    )


def test_ratio_is_none_when_unrelated_follow_ups_move_nothing():
    s = summarise([signal("a", "x", [0.5], [0.0])])
    assert s.ratio is None and "ratio=n/a" in summary_line(s)
    assert s.to_dict()["stop_shift_relevant"] is None  # NaN (no decision points) is written as null


def test_case_signal_refuses_scores_of_different_responses():
    a = TokenScores([1, 2], ["a", "b"], [-1.0, -1.0], [-0.5, -0.5], [0.5, 0.5])
    b = TokenScores([1, 3], ["a", "c"], [-1.0, -1.0], [-0.5, -0.5], [0.5, 0.5])
    with pytest.raises(ValueError, match="different tokens"):
        case_signal(Case(), a, b, ["a", "b"], [])


def test_case_signal_round_trips_through_its_dict_form():
    case = signal("a", "x", [0.5, -0.1], [0.2, 0.0], [DecisionPoint(2, 0.1, 0.3, 0.15)])
    data = json.loads(json.dumps(case.to_dict()))
    assert data["mean_abs_relevant"] == pytest.approx(0.3)
    assert CaseSignal.from_dict(data) == case


# ---------------------------------------------------------------------------- model passes


def test_analyse_case_matches_direct_scoring_and_end_of_turn_probabilities(tiny_model, smol_tokenizer):
    case = Case()
    result = analyse_case(tiny_model, smol_tokenizer, case)
    eot = end_of_turn_id(smol_tokenizer)
    assert smol_tokenizer.convert_ids_to_tokens(eot) == "<|im_end|>"
    ids = encode_response(smol_tokenizer, case.response)
    assert result.token_ids == ids and ids[-1] == eot
    assert "".join(result.pieces[:-1]) == case.response

    messages = [{"role": "user", "content": case.prompt}]
    rel, unrel = hindsight_token_scores(
        tiny_model, smol_tokenizer,
        [HindsightSample(messages, ids, case.relevant), HindsightSample(messages, ids, case.unrelated)],
    )
    assert result.relevant_advantages == pytest.approx(rel.advantages, abs=1e-5)
    assert result.unrelated_advantages == pytest.approx(unrel.advantages, abs=1e-5)
    assert result.relevant_advantages != pytest.approx(result.unrelated_advantages, abs=1e-6)

    # Three sentences: decision points after each, the last one being the end of the response.
    text_before = ["".join(result.pieces[: d.position]) for d in result.decisions]
    assert [t.endswith(".") for t in text_before] == [True, True, True]
    assert result.decisions[-1].position == len(ids) - 1
    positions = [d.position for d in result.decisions]
    for follow_up, attr in ((None, "p_plain"), (case.relevant, "p_relevant"), (case.unrelated, "p_unrelated")):
        probs = full_distribution_at(tiny_model, smol_tokenizer, messages, ids, positions, follow_up=follow_up)
        got = torch.tensor([getattr(d, attr) for d in result.decisions])
        torch.testing.assert_close(got, probs[:, eot], atol=1e-6, rtol=1e-4)


# ---------------------------------------------------------------------------- report


def test_advantage_colour_is_red_for_negative_blue_for_positive_and_saturates():
    assert advantage_colour(-2.0, 1.0) == "rgba(178,24,43,1.000)"
    assert advantage_colour(0.5, 1.0) == "rgba(33,102,172,0.500)"
    assert advantage_colour(0.0, 1.0).endswith("0.000)")


def test_colour_cap_is_a_high_quantile_of_all_absolute_advantages():
    cases = [signal("a", "x", [0.1 * i for i in range(1, 51)], [-0.01] * 50)]
    assert colour_cap(cases) == pytest.approx(4.9)
    assert colour_cap([signal("z", "x", [0.0], [0.0])]) == 1.0


def test_html_escapes_every_piece_of_case_text_including_quotes():
    evil = '<script>alert("x")</script>'
    case = CaseSignal(
        id='id"><b>', preference="p&q", kind="constraining", prompt=evil, response=evil,
        relevant="'rel'<i>", unrelated='"un"', token_ids=[1, 2], pieces=['<b a="1">', "'&'"],
        student_logprobs=[-1.0, -2.0], relevant_advantages=[0.5, -0.5], unrelated_advantages=[0.1, 0.0],
        decisions=[DecisionPoint(2, 0.1, 0.2, 0.1)],
    )
    page = render_html([case], summarise([case]), {"model": '"><img src=x>'})
    assert "<script>" not in page and "<b>" not in page and "<i>" not in page and "<img src=x>" not in page
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in page
    assert "&lt;b a=&quot;1&quot;&gt;" in page and "&#x27;&amp;&#x27;" in page
    assert 'id="id&quot;&gt;&lt;b&gt;"' in page
    assert "+10.0pp" in page  # the stop badge after the last token: 0.1 -> 0.2


def test_write_report_writes_json_html_and_valid_pngs_that_read_back(tmp_path):
    cases = [
        signal("a/b c", "concise", [0.5, -0.2, 0.1], [0.1, 0.1, -0.1], [DecisionPoint(2, 0.1, 0.3, 0.1)]),
        signal("d", "emoji", [0.0, 0.2], [0.3, 0.0], []),
    ]
    paths = write_report(tmp_path / "out", cases, {"model": "tiny"})
    for png in [paths.overview, *paths.heatmaps]:
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert [p.name for p in paths.heatmaps] == ["00-a-b-c.png", "01-d.png"]
    page = paths.html.read_text()
    assert page.count("data:image/png;base64,") == 3 and "src=\"http" not in page
    meta, back = read_signals(paths.signals)
    assert meta == {"model": "tiny"} and back == cases
    summary = json.loads(paths.summary.read_text())
    assert summary["lines"][0] == summary_line(summarise(cases))
    assert summary["summary"]["by_preference"]["emoji"]["stop_shift_relevant"] is None
