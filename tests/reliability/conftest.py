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
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory, smol_tokenizer) -> Path:
    """A transformers folder with a random 1-layer Llama and SmolLM2's tokenizer."""
    return save_tiny_model(tmp_path_factory.mktemp("tiny-model"), smol_tokenizer)


@pytest.fixture(scope="session")
def poisoned_model_dir(tmp_path_factory, smol_tokenizer) -> Path:
    """Like `tiny_model_dir`, but the input embedding of POISON_TOKEN is NaN: any context
    holding that token (e.g. a follow-up that mentions it) gives a NaN loss."""
    return save_tiny_model(tmp_path_factory.mktemp("poisoned-model"), smol_tokenizer, poison=POISON_TOKEN)


@pytest.fixture(scope="session")
def llama_gguf() -> Path:
    return _llama_fixtures().smollm2_gguf()


@pytest.fixture(scope="session")
def llama_server(llama_gguf):
    """Base URL (ending in /v1) of a llama.cpp server serving SmolLM2, shared by the session."""
    server = _llama_fixtures().LlamaServer(llama_gguf)
    try:
        yield server.base_url
    finally:
        server.stop()


@pytest.fixture
def start_llama_server(llama_gguf):
    """Start a private llama.cpp server (for tests that stop it); stopped after the test."""
    fixtures = _llama_fixtures()
    started = []

    def start():
        server = fixtures.LlamaServer(llama_gguf)
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()
