"""Response-position scoring agrees with a plain full forward pass of the model."""

from __future__ import annotations

import pytest
import torch

from sdpo.hindsight import HindsightSample, build_contexts, response_batch
from sdpo.scoring import full_distribution_at, hindsight_token_scores, response_logits, token_logprobs

MESSAGES = [{"role": "user", "content": "Tell me about owls."}]


def test_response_logits_equal_full_forward_logits_at_response_positions_despite_padding(tiny_model):
    batch = response_batch([[5, 6, 7, 8, 9, 10], [11, 12, 13]], [4, 1], pad_id=2)
    got = response_logits(tiny_model, batch)
    with torch.no_grad():
        full_a = tiny_model(torch.tensor([[5, 6, 7, 8, 9, 10]])).logits[0]
        full_b = tiny_model(torch.tensor([[11, 12, 13]])).logits[0]
    assert got.shape == (2, 2, tiny_model.config.vocab_size)
    torch.testing.assert_close(got[0], full_a[3:5], atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(got[1], full_b[0:2], atol=1e-5, rtol=1e-5)


def test_token_scores_are_teacher_minus_student_log_probs_of_the_same_tokens(tiny_model, smol_tokenizer):
    response = smol_tokenizer("Owls hunt at night.")["input_ids"]
    sample = HindsightSample(MESSAGES, response, "Be brief.")
    [scores] = hindsight_token_scores(tiny_model, smol_tokenizer, [sample])
    ctx = build_contexts(smol_tokenizer, sample)
    with torch.no_grad():
        s_lp = tiny_model(torch.tensor([ctx.student_ids])).logits[0].log_softmax(-1)
        t_lp = tiny_model(torch.tensor([ctx.teacher_ids])).logits[0].log_softmax(-1)
    for t, token in enumerate(response):
        assert abs(scores.student_logprobs[t] - s_lp[ctx.student_prompt_len + t - 1, token].item()) < 1e-4
        assert abs(scores.teacher_logprobs[t] - t_lp[ctx.teacher_prompt_len + t - 1, token].item()) < 1e-4
        assert abs(scores.advantages[t] - (scores.teacher_logprobs[t] - scores.student_logprobs[t])) < 1e-9
    assert scores.token_ids == response and len(scores.tokens) == len(response)
    plain = token_logprobs(tiny_model, smol_tokenizer, MESSAGES, response)
    hindsight = token_logprobs(tiny_model, smol_tokenizer, MESSAGES, response, follow_up="Be brief.")
    assert plain == pytest.approx(scores.student_logprobs, abs=1e-5)
    assert hindsight == pytest.approx(scores.teacher_logprobs, abs=1e-5)


def test_full_distribution_at_gives_next_token_probabilities_after_a_response_prefix(tiny_model, smol_tokenizer):
    response = smol_tokenizer("Owls hunt at night.")["input_ids"]
    probs = full_distribution_at(tiny_model, smol_tokenizer, MESSAGES, response, [0, len(response)])
    assert probs.shape == (2, tiny_model.config.vocab_size)
    torch.testing.assert_close(probs.sum(-1), torch.ones(2))
    ctx = build_contexts(smol_tokenizer, HindsightSample(MESSAGES, response, "x"))
    with torch.no_grad():
        last = tiny_model(torch.tensor([ctx.student_ids])).logits[0, -1].softmax(-1)
    torch.testing.assert_close(probs[1], last, atol=1e-6, rtol=1e-5)
    hindsight = full_distribution_at(tiny_model, smol_tokenizer, MESSAGES, response, 0, follow_up="Be brief.")
    assert hindsight.shape == (tiny_model.config.vocab_size,)
    assert not torch.allclose(hindsight, probs[0])
