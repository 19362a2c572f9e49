"""Fixtures of the reliability tests: tiny model folders the real CLI can load, one torch
thread, and the llama.cpp server fixtures of tests/integration (marker `server`).

Runs go through `--model <folder>` so the CLI, resume and crash paths are the real ones while
the policy stays a randomly initialised 1-layer Llama that answers in milliseconds.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
from reliability_helpers import POISON_TOKEN, save_tiny_model
from tinymodels import single_torch_thread

_INTEGRATION_CONFTEST = Path(__file__).resolve().parents[1] / "integration" / "conftest.py"


def _llama_fixtures():
    """tests/integration/conftest.py loaded under its own name (conftest fixtures are not
    visible outside their folder, and `import conftest` would pick an arbitrary one)."""
    spec = importlib.util.spec_from_file_location("simbench_llama_fixtures", _INTEGRATION_CONFTEST)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def one_torch_thread():
    """Tiny models run 10-100x faster on one thread when the CPU is shared."""
    with single_torch_thread():
        yield


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory, smol_tokenizer) -> Path:
    """A transformers folder with a random 1-layer Llama and SmolLM2's tokenizer."""
    return save_tiny_model(tmp_path_factory.mktemp("tiny-model"), smol_tokenizer)


@pytest.fixture(scope="session")
def poisoned_model_dir(tmp_path_factory, smol_tokenizer) -> Path:
    """Like `tiny_model_dir`, but the input embedding of POISON_TOKEN is NaN: any context
    holding that token (e.g. a follow-up that mentions it) gives a NaN loss."""
    return save_tiny_model(tmp_path_factory.mktemp("poisoned-model"), smol_tokenizer, poison=POISON_TOKEN)


# The llama.cpp server fixtures of tests/integration, shared as they are (same scopes).
_LLAMA = _llama_fixtures()
llama_gguf = _LLAMA.llama_gguf
llama_server = _LLAMA.llama_server
start_llama_server = _LLAMA.start_llama_server
