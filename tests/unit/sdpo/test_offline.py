"""Offline SDPO: strict line-numbered parsing of conversation logs, (x, y, o) splitting,
response encoding, batch order, and the training loop's outputs on a tiny random Llama."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from sdpo.config import SDPOConfig
from sdpo.errors import ConfigError, SampleError
from sdpo.offline import (
    OfflineExample,
    batch_order,
    distill,
    encode_response,
    end_of_turn_id,
    parse_conversations,
    read_conversations,
    split_conversation,
    to_samples,
    validate_conversation,
)

SAMPLE = Path(__file__).resolve().parents[3] / "examples" / "conversations.sample.jsonl"


def u(text):
    return {"role": "user", "content": text}


def a(text):
    return {"role": "assistant", "content": text}


def line(messages):
    return json.dumps(messages)


# ---------------------------------------------------------------------------- validation


@pytest.mark.parametrize(
    "value, problem",
    [
        ({"role": "user"}, "expected a JSON list of messages, got dict"),
        ([], "empty conversation"),
        (["hi"], "message 0: expected an object"),
        ([{"content": "hi"}], "message 0: missing 'role'"),
        ([u("hi"), {"role": "assistant"}], "message 1: missing 'content'"),
        ([{"role": "robot", "content": "hi"}], "message 0: unknown role 'robot'"),
        ([{"role": "user", "content": ["hi"]}], "message 0: 'content' must be a string, got list"),
        ([u("hi"), a("  ")], "message 1: empty 'content'"),
    ],
)
def test_malformed_conversations_are_rejected_with_the_message_index(value, problem):
    with pytest.raises(ValueError) as info:
        validate_conversation(value)
    assert str(info.value).startswith(problem)


def test_extra_message_keys_from_real_logs_are_dropped():
    assert validate_conversation([{"role": "user", "content": "hi", "timestamp": 3}]) == [u("hi")]


# ---------------------------------------------------------------------------- splitting


def test_every_assistant_turn_between_two_user_turns_becomes_a_tuple():
    messages = [u("q1"), a("r1"), u("o1"), a("r2"), u("o2"), a("r3")]
    tuples = split_conversation(messages, k=4)
    assert [(t, y, o) for t, _, y, o in tuples] == [(1, "r1", "o1"), (3, "r2", "o2")]
    assert tuples[0][1] == [u("q1")]
    assert tuples[1][1] == [u("q1"), a("r1"), u("o1")]


def test_history_is_cut_to_the_last_k_messages_but_keeps_the_system_prompt():
    system = {"role": "system", "content": "Be nice."}
    messages = [system, u("q1"), a("r1"), u("q2"), a("r2"), u("q3"), a("r3"), u("o")]
    [(turn, x, y, o)] = [t for t in split_conversation(messages, k=2) if t[0] == 6]
    assert x == [system, a("r2"), u("q3")] and y == "r3" and o == "o"
    [(_, x1, _, _)] = [t for t in split_conversation(messages, k=1) if t[0] == 2]
    assert x1 == [system, u("q1")]


def test_assistant_turns_not_answering_a_user_or_without_a_user_reply_give_no_tuple():
    assert split_conversation([u("q"), a("r1"), a("r2"), u("o")], k=4) == []
    assert split_conversation([u("q"), a("r")], k=4) == []
    with pytest.raises(ConfigError, match="k: bad value 0"):
        split_conversation([u("q")], k=0)


# ---------------------------------------------------------------------------- parsing files


def test_skip_mode_reports_each_bad_line_by_number_and_keeps_the_good_ones():
    lines = [
        line([u("q"), a("r"), u("o")]),
        "",
        "{not json",
        line({"role": "user"}),
        line([u("q2"), a("r2")]),
        line([u("q3"), a("r3"), u("o3"), a("r4"), u("o4")]),
        "[]",
    ]
    parsed = parse_conversations(lines, k=4, on_error="skip", source="log.jsonl")
    assert [(p.line, p.problem.split(":")[0]) for p in parsed.problems] == [
        (3, "malformed JSON"), (4, "expected a JSON list of messages, got dict"), (7, "empty conversation"),
    ]
    assert [(e.line, e.turn, e.response, e.follow_up) for e in parsed.examples] == [
        (1, 1, "r", "o"), (6, 1, "r3", "o3"), (6, 3, "r4", "o4"),
    ]
    assert parsed.conversations == 3 and parsed.without_tuples == 1


def test_reject_mode_names_the_first_bad_line_and_how_many_more_there_are():
    lines = [line([u("q"), a("r"), u("o")]), "null", line([u("q"), {"role": "bot", "content": "x"}]), "[1]"]
    with pytest.raises(SampleError) as info:
        parse_conversations(lines, on_error="reject", source="log.jsonl")
    message = str(info.value)
    assert message.startswith("log.jsonl, line 2: expected a JSON list of messages, got NoneType")
    assert "2 more bad line(s): 3, 4" in message
    assert "\n" not in message


def test_invalid_utf8_and_byte_order_marks_are_handled_per_line(tmp_path):
    path = tmp_path / "log.jsonl"
    good = line([u("q"), a("r"), u("o")]).encode()
    path.write_bytes(b"\xef\xbb\xbf" + good + b"\n" + b'["\xff"]\n' + good + b"\r\n")
    parsed = read_conversations(path)
    assert len(parsed.examples) == 2
    assert [(p.line, p.problem) for p in parsed.problems] == [(2, "not valid UTF-8 (byte 0xff at column 3)")]


def test_bad_options_and_missing_files_raise_sdpo_errors(tmp_path):
    with pytest.raises(ConfigError, match="on_error: bad value 'ignore'"):
        parse_conversations([], on_error="ignore")
    with pytest.raises(SampleError, match="file not found"):
        read_conversations(tmp_path / "absent.jsonl")
    with pytest.raises(SampleError, match="is a directory"):
        read_conversations(tmp_path)


def test_the_shipped_sample_file_parses_cleanly_into_multi_turn_tuples():
    parsed = read_conversations(SAMPLE, k=4, on_error="reject")
    assert parsed.problems == [] and parsed.conversations >= 15
    assert len(parsed.examples) >= parsed.conversations
    assert any(len(e.messages) > 1 for e in parsed.examples)
    assert all(e.messages[-1]["role"] == "user" for e in parsed.examples)


# ---------------------------------------------------------------------------- encoding and order


def test_responses_are_encoded_as_generated_text_then_the_end_of_turn_token(smol_tokenizer):
    eot = end_of_turn_id(smol_tokenizer)
    assert eot == smol_tokenizer.convert_tokens_to_ids("<|im_end|>")
    ids = encode_response(smol_tokenizer, "Short answer.")
    assert ids[-1] == eot and smol_tokenizer.decode(ids[:-1]) == "Short answer."
    [sample] = to_samples(smol_tokenizer, [OfflineExample(1, 1, [u("q")], "Short answer.", "thanks")])
    assert sample.response_ids == ids and sample.follow_up == "thanks" and sample.messages == [u("q")]


def test_batch_order_visits_every_example_once_per_epoch_with_a_seeded_shuffle():
    order = batch_order(7, batch_size=3, epochs=2, seed=5)
    assert [len(b) for _, b in order] == [3, 3, 1, 3, 3, 1]
    for epoch in (0, 1):
        assert sorted(i for e, b in order if e == epoch for i in b) == list(range(7))
    assert order == batch_order(7, 3, 2, seed=5)
    assert order != batch_order(7, 3, 2, seed=6)
    with pytest.raises(ConfigError, match="batch_size"):
        batch_order(3, 0, 1, 0)


# ---------------------------------------------------------------------------- training


def test_distill_trains_lora_logs_each_step_as_it_goes_and_saves_adapter_and_checkpoints(
    tiny_model, smol_tokenizer, tmp_path
):
    examples = read_conversations(SAMPLE).examples[:3]
    out = tmp_path / "run"
    seen = []

    def on_step(log_line, total):
        # The log is flushed line by line and the periodic checkpoint exists before the next step.
        lines = (out / "training_log.jsonl").read_text().splitlines()
        state = json.loads((out / "checkpoint" / "state.json").read_text()) if (out / "checkpoint").exists() else None
        seen.append((log_line["step"], total, len(lines), state and state["steps"]))

    before = {n: p.detach().clone() for n, p in tiny_model.named_parameters()}
    result = distill(
        tiny_model, smol_tokenizer, examples, out, SDPOConfig(lr=1e-2), batch_size=2, epochs=2,
        save_every=2, seed=1, on_step=on_step,
    )
    assert [s[:3] for s in seen] == [(i, 4, i + 1) for i in range(4)]
    # Saved every 2 updates while training; the last update is saved once, after the loop.
    assert [s[3] for s in seen] == [None, 2, 2, 2]
    assert result.steps == 4 and result.skipped_steps == 0 and result.examples == 3
    log = [json.loads(x) for x in result.log_path.read_text().splitlines()]
    assert [r["epoch"] for r in log] == [0, 0, 1, 1]
    assert sorted((s["line"], s["turn"]) for r in log[:2] for s in r["sources"]) == sorted(
        (e.line, e.turn) for e in examples
    )
    assert all(r["samples"] == len(r["sources"]) for r in log)
    assert (result.adapter_path / "adapter_model.safetensors").is_file()
    assert json.loads((result.checkpoint_path / "state.json").read_text())["steps"] == 4
    lora = [n for n, p in tiny_model.named_parameters() if "lora_B" in n]
    assert lora and all(not torch.equal(p, torch.zeros_like(p)) for n, p in tiny_model.named_parameters() if n in lora)
    assert all(torch.equal(before[n], p) for n, p in tiny_model.named_parameters() if n in before)


def test_distill_refuses_an_empty_example_list_and_a_bad_save_interval(tiny_model, smol_tokenizer, tmp_path):
    with pytest.raises(SampleError, match="nothing to train on"):
        distill(tiny_model, smol_tokenizer, [], tmp_path / "x")
    example = OfflineExample(1, 1, [u("q")], "r", "o")
    with pytest.raises(ConfigError, match="save_every"):
        distill(tiny_model, smol_tokenizer, [example], tmp_path / "y", save_every=-1)
    assert not (tmp_path / "x").exists() and not (tmp_path / "y").exists()
