"""The pairwise judge: verdict parsing, order-swap voting, win rate, and one scripted exchange."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from scripted_server import ScriptedServer

from simbench.judge import (
    EndpointJudge,
    JudgeError,
    JudgeResult,
    combine_votes,
    parse_choice,
    render_judge_messages,
    vote,
    win_rate,
)


@pytest.mark.parametrize(
    "reply, letter",
    [
        ("A", "A"),
        ("b", "B"),
        (" **B** ", "B"),
        ("(A)", "A"),
        ("B.", "B"),
        ("A. It avoids emojis.", "A"),
        ("B\n\nBecause it is shorter.", "B"),
        ("Answer: B", "B"),
        ("The answer is A.", "A"),
        ("Final answer: **A**", "A"),
        ("The better answer is Response B", "B"),
        ("I prefer B because it is shorter.", "B"),
        ("A good answer is B", "B"),  # leading "A" is an article here
        ("Answer B is better than Answer A", "B"),
        ("B is better.", "B"),
        ("Response A", "A"),
    ],
)
def test_parse_choice_reads_the_picked_letter(reply, letter):
    assert parse_choice(reply) == letter


@pytest.mark.parametrize(
    "reply",
    ["", "Both are fine.", "A or B", "Response A vs response B", "The answer is a good one", "I cannot decide"],
)
def test_parse_choice_returns_none_when_no_single_letter_is_picked(reply):
    assert parse_choice(reply) is None


def test_vote_maps_letters_to_sides_given_the_order():
    assert vote("A", current_is_a=True) == "current"
    assert vote("B", current_is_a=True) == "base"
    assert vote("A", current_is_a=False) == "base"
    assert vote("B", current_is_a=False) == "current"
    assert vote(None, current_is_a=True) is None


@pytest.mark.parametrize(
    "first, second, winner",
    [
        ("current", "current", "current"),
        ("base", "base", "base"),
        ("current", "base", "tie"),
        ("base", "current", "tie"),
        ("current", None, "tie"),
        (None, None, "tie"),
    ],
)
def test_combine_votes_needs_both_orders_to_agree(first, second, winner):
    assert combine_votes(first, second) == winner


def test_a_judge_always_saying_a_is_position_bias_and_ties():
    votes = (vote(parse_choice("A"), True), vote(parse_choice("A"), False))
    assert combine_votes(*votes) == "tie"


def _result(winner: str) -> JudgeResult:
    return JudgeResult(winner, ("A", "B"), (None, None), "judge", "h")  # type: ignore[arg-type]


def test_win_rate_counts_ties_as_half():
    results = [_result("current"), _result("tie"), _result("base"), _result("current")]
    assert win_rate(results) == pytest.approx(2.5 / 4)
    assert win_rate([_result("base")]) == 0.0


def test_win_rate_of_nothing_is_an_error():
    with pytest.raises(ValueError):
        win_rate([])


def test_render_puts_first_as_a_and_names_the_criterion():
    user = render_judge_messages("Q?", "first answer", "second answer", "No emojis.")[1]["content"]
    assert user.index("[Answer A]\nfirst answer") < user.index("[Answer B]\nsecond answer")
    assert "Criterion: No emojis." in user and "Q?" in user


def test_compare_asks_both_orders_and_maps_letters_back():
    def pick_the_short_one(body: dict) -> str:
        text = body["messages"][1]["content"]
        a = text.split("[Answer A]\n")[1].split("\n[End")[0]
        b = text.split("[Answer B]\n")[1].split("\n[End")[0]
        return "A" if len(a) < len(b) else "B"

    with ScriptedServer(reply=pick_the_short_one) as server:
        judge = EndpointJudge(server.base_url, "judge-model", api_key_env=None, cache="off")
        result = judge.compare("Q?", "Short.", "A much longer answer.", "Short answers.")
        swapped = judge.compare("Q?", "A much longer answer.", "Short.", "Short answers.")
        firsts = [body["messages"][1]["content"] for body in server.requests[:2]]
    assert result.winner == "current" and result.verdicts == ("A", "B")
    assert result.votes == ("current", "current") and result.model == "judge-model"
    assert swapped.winner == "base"
    assert "[Answer A]\nShort." in firsts[0] and "[Answer A]\nA much longer answer." in firsts[1]
    assert len(result.prompt_hash) == 64 and result.prompt_hash != swapped.prompt_hash


def test_judge_failures_are_judge_errors_not_user_errors():
    with ScriptedServer(["500", "500"]) as server:
        judge = EndpointJudge(server.base_url, "j", api_key_env=None, max_attempts=2, backoff_base=0.01, cache="off")
        with pytest.raises(JudgeError, match="failed after 2 attempts"):
            judge.compare("Q?", "x", "y", "c")


VERDICTS = [json.loads(line) for line in (Path(__file__).parent / "judge_verdicts.jsonl").read_text().splitlines()]
LABELS = {"yes": True, "no": False, "unparseable": None}


@pytest.mark.parametrize("case", VERDICTS, ids=lambda case: case["reply"][:40] or "empty")
def test_rubric_replies_parse_to_their_labelled_verdict_or_unparseable(case):
    """Hand-labelled judge replies: the last VERDICT line decides, else a leading YES/NO word;
    an incidental "no" (or a verdict sentence) is unparseable, never a fail."""
    from simbench.judge import parse_yes_no

    assert parse_yes_no(case["reply"]) is LABELS[case["label"]]


def test_the_labelled_replies_cover_every_outcome_and_the_incidental_no():
    labels = [case["label"] for case in VERDICTS]
    assert len(VERDICTS) >= 30 and {labels.count(k) >= 8 for k in LABELS} == {True}
    assert any(case["reply"].endswith("as it requires no") and case["label"] == "unparseable" for case in VERDICTS)


def test_the_rubric_prompt_asks_for_the_verdict_line_the_parser_reads():
    from simbench.judge import parse_yes_no, render_rubric_messages

    messages = render_rubric_messages("Q?", "A.", "Short answers.")
    assert "VERDICT: YES or VERDICT: NO" in messages[-1]["content"]
    assert parse_yes_no("VERDICT: YES") is True and parse_yes_no("VERDICT: NO") is False
