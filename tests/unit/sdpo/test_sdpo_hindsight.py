"""Student/teacher context construction with SmolLM2's real tokenizer and chat template."""

from __future__ import annotations

import pytest

from sdpo.errors import ConfigError, SampleError
from sdpo.hindsight import (
    DEFAULT_HINDSIGHT_TEMPLATE,
    HindsightSample,
    build_contexts,
    check_sample,
    hindsight_messages,
    prompt_ids,
    response_batch,
    validate_template,
)

MULTI_TURN = [
    {"role": "system", "content": "You are terse."},
    {"role": "user", "content": "Name a fruit."},
    {"role": "assistant", "content": "Apple."},
    {"role": "user", "content": "Name a colour."},
]


def test_follow_up_goes_into_the_last_user_turn_only_and_input_is_not_mutated():
    original = [dict(m) for m in MULTI_TURN]
    out = hindsight_messages(MULTI_TURN, "Use one word.")
    assert MULTI_TURN == original
    assert out[:3] == original[:3]
    assert out[3]["content"] == DEFAULT_HINDSIGHT_TEMPLATE.format(prompt="Name a colour.", follow_up="Use one word.")
    assert out[3]["content"].startswith("Name a colour.\n\n[The following is a future user message.")


def test_custom_template_and_braces_inside_the_texts_are_kept_literally():
    out = hindsight_messages([{"role": "user", "content": "f({x})"}], "say {y}", "{follow_up} | {prompt}")
    assert out[0]["content"] == "say {y} | f({x})"


def test_response_ids_are_identical_in_student_and_teacher_contexts_for_multi_turn(smol_tokenizer):
    response = smol_tokenizer("Blue, like the sky.")["input_ids"] + [smol_tokenizer.eos_token_id]
    ctx = build_contexts(smol_tokenizer, HindsightSample(MULTI_TURN, response, "Shorter please."))
    assert ctx.student_ids[ctx.student_prompt_len :] == response
    assert ctx.teacher_ids[ctx.teacher_prompt_len :] == response
    assert ctx.teacher_prompt_len > ctx.student_prompt_len
    teacher_text = smol_tokenizer.decode(ctx.teacher_ids[: ctx.teacher_prompt_len])
    student_text = smol_tokenizer.decode(ctx.student_ids[: ctx.student_prompt_len])
    assert "Shorter please." in teacher_text and "Shorter please." not in student_text
    # both prompts end with the assistant header, and the earlier turns are shared verbatim
    assert teacher_text.endswith("<|im_start|>assistant\n") and student_text.endswith("<|im_start|>assistant\n")
    assert teacher_text.count("Apple.") == 1 and student_text.split("Name a colour.")[0] in teacher_text


def test_prompt_ids_unwraps_the_batch_encoding_of_transformers_5(smol_tokenizer):
    ids = prompt_ids(smol_tokenizer, MULTI_TURN)
    text = smol_tokenizer.apply_chat_template(MULTI_TURN, add_generation_prompt=True, tokenize=False)
    assert ids == smol_tokenizer(text, add_special_tokens=False)["input_ids"]
    assert all(isinstance(i, int) for i in ids)


def test_response_batch_right_pads_and_points_each_target_at_its_predicting_position():
    batch = response_batch([[1, 2, 3, 4, 5], [7, 8, 9]], [3, 2], pad_id=0)
    assert batch.input_ids.tolist() == [[1, 2, 3, 4, 5], [7, 8, 9, 0, 0]]
    assert batch.attention_mask.tolist() == [[1, 1, 1, 1, 1], [1, 1, 1, 0, 0]]
    assert batch.positions.tolist() == [[2, 3], [1, 0]]
    assert batch.targets.tolist() == [[4, 5], [9, 0]]
    assert batch.mask.tolist() == [[1.0, 1.0], [1.0, 0.0]]


@pytest.mark.parametrize("template", ["{prompt}", "{prompt} {follow_up} {extra}", "{prompt {follow_up}"])
def test_templates_without_exactly_prompt_and_follow_up_are_rejected(template):
    with pytest.raises(ConfigError, match="hindsight_template"):
        validate_template(template)


@pytest.mark.parametrize(
    ("sample", "field"),
    [
        (HindsightSample([], [1], "o"), "sample 3.messages"),
        (HindsightSample([{"role": "bot", "content": "x"}], [1], "o"), "sample 3.messages[0]"),
        (HindsightSample([{"role": "system", "content": "x"}], [1], "o"), "sample 3.messages"),
        (HindsightSample([{"role": "user", "content": "x"}], [], "o"), "sample 3.response_ids"),
        (HindsightSample([{"role": "user", "content": "x"}], [10**9], "o"), "sample 3.response_ids"),
        (HindsightSample([{"role": "user", "content": "x"}], [1, 2], "o", [0.1]), "sample 3.old_logprobs"),
    ],
)
def test_malformed_samples_name_the_sample_and_field(sample, field):
    with pytest.raises(SampleError) as err:
        check_sample(sample, 3, vocab_size=100)
    assert str(err.value).startswith(field + ":")
