"""The HF backend with stacked adapters: each row of one batched call answers with its own
request's adapter slot (-1: the base model), also after other rows of its batch have finished,
exactly as that request generated alone (float64 tiny model)."""

from __future__ import annotations

import pytest
import torch
from tinymodels import make_tiny_llama, single_torch_thread

from sdpo.config import SDPOConfig
from sdpo.multi_lora import StackedLoRA
from simbench.backends.base import GenerationRequest
from simbench.backends.hf import GenerationConfig, HFBackend

QUESTIONS = ("What is rain?", "Name a planet.", "Why is the sky blue?", "Count to three.")


@pytest.fixture(autouse=True)
def _one_thread():
    with single_torch_thread():
        yield


def _stacked_model(tokenizer):
    model = make_tiny_llama(tokenizer).double()
    stacked = StackedLoRA(model, SDPOConfig(), slots=2)
    generator = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for tensor in stacked.parameters():  # adapters far from zero, so slots answer differently
            tensor.copy_(torch.randn(tensor.shape, generator=generator, dtype=tensor.dtype) * 0.3)
    return model, stacked


def _requests(slots):
    return [GenerationRequest(messages=({"role": "user", "content": q},), seed=i, greedy=i % 2 == 0,
                              adapter_slot=slot)
            for i, (q, slot) in enumerate(zip(QUESTIONS, slots))]


def test_each_row_answers_with_its_own_slot_as_it_would_alone(smol_tokenizer):
    model, stacked = _stacked_model(smol_tokenizer)
    slots = [0, 1, -1, 0]
    config = GenerationConfig(max_new_tokens=6, batch_size=4, stop_token_ids=())
    free = HFBackend(model, smol_tokenizer, config, adapters=stacked).generate(_requests(slots))
    # Make one row's second token a stop token: that row ends after one token and the batch
    # drops it mid-decode, while the other rows keep their own slots.
    stop = free[1].token_ids[1]
    config = GenerationConfig(max_new_tokens=6, batch_size=4, stop_token_ids=(stop,))
    backend = HFBackend(model, smol_tokenizer, config, adapters=stacked)
    together = backend.generate(_requests(slots))
    assert together[1].finish_reason == "stop" and len(together[1].token_ids) == 1
    assert any(g.finish_reason == "length" for g in together)
    for request, answer in zip(_requests(slots), together):
        assert backend.generate([request]) == [answer]
    # The slots matter: the same requests on other slots answer differently.
    assert [g.token_ids for g in backend.generate(_requests([1, 0, 0, -1]))] != [g.token_ids for g in together]
