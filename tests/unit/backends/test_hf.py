"""The transformers backend: batching never changes a reply, seeds are per request, stops are exact.

Most tests use a 2-layer random Llama with SmolLM2's tokenizer; the slow one uses real SmolLM2.
"""

from __future__ import annotations

import pytest

from simbench.backends.base import BACKENDS, GenerationRequest
from simbench.backends.hf import (
    GenerationConfig,
    HFBackend,
    chat_prompt_ids,
    length_sorted_batches,
    next_tokens,
    resolve_stop_ids,
    with_system_prompt,
)
from simbench.errors import InputError

CHATS = (
    ({"role": "user", "content": "hi"},),
    ({"role": "user", "content": "Tell me a long story about a cat, a dog and a very old lighthouse."},),
    ({"role": "system", "content": "Be brief."}, {"role": "user", "content": "What is 2+2?"}),
    ({"role": "user", "content": "Why is the sky blue?"},),
)


def chaotic(model, std: float = 0.3):
    """Re-initialise `model`'s matrices with large weights, in place.

    At the default init a tiny random Llama is near-uniform and greedily repeats one token,
    which would hide batching bugs; large weights make every step's argmax depend on the
    whole context.
    """
    import torch

    torch.manual_seed(1)
    with torch.no_grad():
        for param in model.parameters():
            if param.dim() == 2:
                param.normal_(0.0, std)
    return model


def greedy(chat, seed: int = 0) -> GenerationRequest:
    return GenerationRequest(messages=chat, seed=seed, greedy=True)


def sampled(chat, seed: int) -> GenerationRequest:
    return GenerationRequest(messages=chat, seed=seed)


def one_by_one(backend, requests):
    return [backend.generate([r])[0] for r in requests]


# --- pure pieces -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "field, value",
    [("max_new_tokens", 0), ("temperature", -0.1), ("top_p", 0.0), ("top_p", 1.5), ("batch_size", 0)],
)
def test_config_rejects_bad_value_naming_the_field(field, value):
    with pytest.raises(InputError, match=f"generation.{field}.*{value}"):
        GenerationConfig(**{field: value})


def test_system_prompt_is_prepended_only_when_the_chat_has_none():
    user = [{"role": "user", "content": "hi"}]
    own = [{"role": "system", "content": "mine"}, *user]
    assert with_system_prompt(user, "sys") == [{"role": "system", "content": "sys"}, *user]
    assert with_system_prompt(own, "sys") == own
    assert with_system_prompt(user, None) == user


def test_default_stop_ids_are_eos_and_end_of_turn(smol_tokenizer):
    stop = resolve_stop_ids(smol_tokenizer, GenerationConfig())
    assert smol_tokenizer.eos_token_id in stop
    assert smol_tokenizer.convert_tokens_to_ids("<|im_end|>") in stop


def test_stop_strings_add_single_tokens_and_reject_multi_token_text(smol_tokenizer):
    config = GenerationConfig(stop_token_ids=(), stop_strings=("<|im_start|>",))
    assert resolve_stop_ids(smol_tokenizer, config) == {smol_tokenizer.convert_tokens_to_ids("<|im_start|>")}
    with pytest.raises(InputError, match="generation.stop_strings.*'two words'"):
        resolve_stop_ids(smol_tokenizer, GenerationConfig(stop_strings=("two words",)))


def test_inverse_cdf_sampling_picks_the_token_whose_mass_holds_the_uniform():
    import torch

    probs = torch.tensor([0.5, 0.3, 0.2])
    logits = probs.log().repeat(4, 1)
    uniforms = torch.tensor([0.1, 0.49, 0.6, 0.9])
    picked = next_tokens(logits, torch.zeros(4, dtype=torch.bool), uniforms, 1.0, 1.0)
    assert picked.tolist() == [0, 0, 1, 2]


def test_top_p_renormalises_over_the_nucleus():
    import torch

    # top_p 0.6 keeps {0.5, 0.3} (mass above the 0.2 token is 0.8 >= 0.6): token 1 from 0.625 on.
    logits = torch.tensor([0.2, 0.5, 0.3]).log().repeat(3, 1)
    uniforms = torch.tensor([0.6, 0.63, 0.99])
    picked = next_tokens(logits, torch.zeros(3, dtype=torch.bool), uniforms, 1.0, 0.6)
    assert picked.tolist() == [1, 2, 2]


def test_sampled_frequencies_follow_the_tempered_softmax():
    import torch

    logits = torch.tensor([[2.0, 1.0, 0.0, -1.0]])
    grid = (torch.arange(10_000, dtype=torch.float64) + 0.5) / 10_000  # evenly spread uniforms
    picks = torch.cat([next_tokens(logits, torch.tensor([False]), u.view(1), 0.5, 1.0) for u in grid])
    expected = torch.softmax(logits[0] / 0.5, dim=-1)
    observed = torch.bincount(picks, minlength=4) / len(grid)
    assert torch.allclose(observed.double(), expected.double(), atol=2e-4)


def test_greedy_rows_take_the_argmax_whatever_their_uniform():
    import torch

    logits = torch.tensor([[0.0, 3.0, 1.0], [0.0, 3.0, 1.0]])
    picked = next_tokens(logits, torch.tensor([True, False]), torch.tensor([0.01, 0.01]), 1.0, 1.0)
    assert picked.tolist() == [1, 0]


def test_length_sorted_batches_cover_every_request_once():
    batches = length_sorted_batches([5, 1, 9, 3, 7], 2)
    assert sorted(i for b in batches for i in b) == [0, 1, 2, 3, 4]
    assert [len(b) for b in batches] == [2, 2, 1]
    assert batches[0] == [1, 3]


def test_hf_is_registered_lazily():
    assert BACKENDS.get("hf") is HFBackend


# --- generation with a tiny random Llama ---------------------------------------------------


def test_greedy_batched_equals_one_by_one_even_when_rows_stop_early(tiny_model, smol_tokenizer):
    chaotic(tiny_model)
    probe = HFBackend(tiny_model, smol_tokenizer, GenerationConfig(max_new_tokens=24, stop_token_ids=()))
    first = probe.generate([greedy(CHATS[1])])[0].token_ids
    assert len(set(first)) > 5, "the test model must not repeat one token"
    # Stop on a token the second chat emits early, so its row leaves the batch mid-decode.
    config = GenerationConfig(max_new_tokens=24, stop_token_ids=(first[3],), batch_size=8)
    backend = HFBackend(tiny_model, smol_tokenizer, config)
    requests = [greedy(chat) for chat in CHATS]
    batched = backend.generate(requests)
    assert batched == one_by_one(backend, requests)
    assert batched[1].finish_reason == "stop"
    assert any(g.finish_reason == "length" for g in batched)


def test_stop_token_ends_the_reply_and_is_not_returned(tiny_model, smol_tokenizer):
    chaotic(tiny_model)
    free = HFBackend(tiny_model, smol_tokenizer, GenerationConfig(max_new_tokens=16, stop_token_ids=()))
    full = free.generate([greedy(CHATS[0])])[0]
    assert full.finish_reason == "length" and len(full.token_ids) == 16
    stop = full.token_ids[6]
    config = GenerationConfig(max_new_tokens=16, stop_token_ids=(stop,))
    stopped = HFBackend(tiny_model, smol_tokenizer, config)
    reply = stopped.generate([greedy(CHATS[0])])[0]
    assert reply.finish_reason == "stop"
    assert reply.token_ids == full.token_ids[: full.token_ids.index(stop)]
    assert reply.text == smol_tokenizer.decode(list(reply.token_ids), skip_special_tokens=True)


def test_a_seeded_request_gets_the_same_reply_in_any_batch(tiny_model, smol_tokenizer):
    chaotic(tiny_model, std=0.1)
    config = GenerationConfig(max_new_tokens=12, temperature=1.0, top_p=0.9, stop_token_ids=())
    backend = HFBackend(tiny_model, smol_tokenizer, config)
    target = sampled(CHATS[3], seed=7)
    alone = backend.generate([target])[0]
    # CHATS[2] has the shortest prompt: the target is not the first row of the batch.
    with_others = backend.generate([sampled(CHATS[2], 3), greedy(CHATS[0]), target, sampled(CHATS[1], 7)])
    assert with_others[2] == alone
    assert with_others[3] != alone  # same seed, other chat
    assert backend.generate([sampled(CHATS[3], seed=8)])[0] != alone


def test_batch_size_only_changes_speed(tiny_model, smol_tokenizer):
    chaotic(tiny_model)
    requests = [greedy(CHATS[0]), sampled(CHATS[1], 1), sampled(CHATS[3], 2)]
    replies = {
        size: HFBackend(
            tiny_model, smol_tokenizer, GenerationConfig(max_new_tokens=10, temperature=1.0, batch_size=size)
        ).generate(requests)
        for size in (1, 2, 8)
    }
    assert replies[1] == replies[2] == replies[8]


def test_config_system_prompt_reaches_the_prompt(tiny_model, smol_tokenizer):
    backend = HFBackend(tiny_model, smol_tokenizer, GenerationConfig(system_prompt="Answer in French."))
    expected = chat_prompt_ids(
        smol_tokenizer, [{"role": "system", "content": "Answer in French."}, *CHATS[0]]
    )
    assert backend.prompt_ids(greedy(CHATS[0])) == expected
    assert backend.prompt_ids(greedy(CHATS[2])) == chat_prompt_ids(smol_tokenizer, CHATS[2])


def test_generation_uses_the_current_lora_adapter_in_eval_mode(tiny_model, smol_tokenizer):
    import copy

    import torch
    from peft import LoraConfig, get_peft_model

    chaotic(tiny_model)
    lora = LoraConfig(r=4, lora_alpha=8, lora_dropout=0.5, target_modules=["q_proj", "v_proj"])
    policy = get_peft_model(copy.deepcopy(tiny_model), lora)
    config = GenerationConfig(max_new_tokens=12, stop_token_ids=())
    backend = HFBackend(policy, smol_tokenizer, config)
    requests = [greedy(chat) for chat in CHATS[:3]]
    before = backend.generate(requests)
    # A fresh adapter is the identity (lora_B = 0): the base model's replies.
    assert before == HFBackend(tiny_model, smol_tokenizer, config).generate(requests)

    torch.manual_seed(2)
    with torch.no_grad():
        for name, param in policy.named_parameters():
            if "lora_B" in name:
                param.normal_(0.0, 0.5)
    policy.train()  # as a learner leaves it; dropout 0.5 would scramble greedy output
    after = backend.generate(requests)
    assert after != before
    assert policy.training and all(m.training for m in policy.modules())
    merged = copy.deepcopy(policy).merge_and_unload()
    assert after == HFBackend(merged, smol_tokenizer, config).generate(requests)


def test_generation_merges_lora_for_speed_but_leaves_every_weight_bit_identical(tiny_model, smol_tokenizer):
    import torch
    from peft import LoraConfig, get_peft_model

    chaotic(tiny_model)
    policy = get_peft_model(tiny_model, LoraConfig(r=4, lora_alpha=8, target_modules=["q_proj", "o_proj"]))
    with torch.no_grad():
        for name, param in policy.named_parameters():
            if "lora_B" in name:
                param.normal_(0.0, 0.5)
    before = {name: p.detach().clone() for name, p in policy.named_parameters()}
    HFBackend(policy, smol_tokenizer, GenerationConfig(max_new_tokens=6)).generate(
        [greedy(chat) for chat in CHATS[:2]]
    )
    after = dict(policy.named_parameters())
    assert all(torch.equal(before[name], after[name]) for name in before)
    assert not any(getattr(m, "merged", False) for m in policy.modules())


# --- real SmolLM2 ---------------------------------------------------------------------------


@pytest.mark.slow
def test_smollm2_greedy_batched_equals_one_by_one(smollm2):
    model, tokenizer = smollm2
    backend = HFBackend(model, tokenizer, GenerationConfig(max_new_tokens=40, batch_size=8))
    requests = [greedy(chat) for chat in CHATS]
    batched = backend.generate(requests)
    assert batched == one_by_one(backend, requests)
    assert all(g.text.strip() for g in batched)
    assert any(g.finish_reason == "length" for g in batched)
