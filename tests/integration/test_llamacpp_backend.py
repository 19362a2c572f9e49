"""`--backend llama-cpp` on the shipped SmolLM2 GGUF: llama.cpp's forward pass agrees with the
transformers policy, the exported LoRA adapter moves llama.cpp's logits as the adapter moves
the policy's (names, layouts and the rotary permutation are right), the adapter is re-exported
exactly when it changes, and a short run works end to end.

llama.cpp multiplies Q4_1 weights by 8-bit-quantised activations and transformers runs the
same weights dequantised in fp32, so agreement is checked by correlation, not equality.
"""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest
import torch
from tinymodels import set_lora_b

from simbench.backends.base import GenerationRequest
from simbench.backends.hf import GenerationConfig, chat_prompt_ids
from simbench.errors import InputError
from tests.integration.conftest import _missing

pytestmark = pytest.mark.slow

QUESTIONS = ("Why is the sky blue?", "How do vaccines work?", "What is a prime number?",
             "Give me tips for sleeping better.")


@pytest.fixture(scope="module")
def policy():
    """A private SmolLM2 copy (the LoRA tests attach an adapter to it in place)."""
    if importlib.util.find_spec("llama_cpp") is None:
        _missing("llama-cpp-python is not installed: pip install 'simbench-online[llamacpp]'")
    from sdpo.adapters import attach_lora
    from sdpo.config import SDPOConfig
    from sdpo.models import load_policy

    model, tokenizer = load_policy("smollm2-135m")
    return attach_lora(model, SDPOConfig(lora_r=8, lora_alpha=16, seed=0)), tokenizer


@pytest.fixture(scope="module")
def backend(policy):
    from sdpo.models import gguf_source
    from simbench.backends.llamacpp import LlamaCppBackend

    model, tokenizer = policy
    return LlamaCppBackend(gguf_source("smollm2-135m"), model, tokenizer,
                           GenerationConfig(max_new_tokens=12, temperature=0.7, top_p=0.9, batch_size=4))


def _chats():
    return [({"role": "user", "content": q},) for q in QUESTIONS]


def _hf_last_logits(model, tokenizer) -> np.ndarray:
    rows = []
    with torch.no_grad():
        for chat in _chats():
            ids = torch.tensor([chat_prompt_ids(tokenizer, chat)])
            rows.append(model(input_ids=ids).logits[0, -1].numpy())
    return np.stack(rows)


def _llama_last_logits(backend) -> np.ndarray:
    backend.sync_adapter()
    engine = backend.engine
    engine.clear()
    prompts = [chat_prompt_ids(backend.tokenizer, chat) for chat in _chats()]
    logits = engine.decode([(tok, pos, seq, pos == len(p) - 1) for seq, p in enumerate(prompts)
                            for pos, tok in enumerate(p)])
    engine.clear()
    return logits[:, : len(backend.tokenizer)]


def _set_lora_b(model, std: float, only: str = "") -> None:
    set_lora_b(model, std, seed=3, only=only)


def _corr(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.corrcoef(a.ravel(), b.ravel())[0, 1])


def test_base_forward_matches_transformers(policy, backend) -> None:
    model, tokenizer = policy
    _set_lora_b(model, 0.0)
    hf, llama = _hf_last_logits(model, tokenizer), _llama_last_logits(backend)
    assert backend.engine.adapter is None  # B = 0: the base weights, no adapter served
    assert _corr(hf, llama) > 0.99
    assert (hf.argmax(-1) == llama.argmax(-1)).all()


# llama.cpp quantises activations to 8 bits before each Q4_1 matmul, so any perturbation of
# the inputs re-rolls the rounding downstream: a near-zero adapter (B std 1e-7) moves its logits
# by ~0.17 on average (measured), the size of its whole gap to transformers (~0.14). So the
# check is that, with an adapter that moves the policy's logits by ~0.7-1.1, llama.cpp stays
# within that quantisation gap of the adapted policy (measured 0.12-0.23) and far from the
# unadapted one, and that its move correlates with the policy's (measured 0.87-0.95).
@pytest.mark.parametrize(("only", "std"), [
    ("", 0.05),        # every adapted projection
    ("q_proj", 0.2),   # the rotary row permutation of q
    ("k_proj", 0.2),   # ... of k, with its own head count
    ("o_proj", 0.2),   # the input side (A) of the output projection
])
def test_exported_adapter_moves_logits_like_the_policy(policy, backend, only, std) -> None:
    model, tokenizer = policy
    _set_lora_b(model, 0.0)
    hf_base = _hf_last_logits(model, tokenizer)
    _set_lora_b(model, 1e-7)
    llama_floor = _llama_last_logits(backend)
    _set_lora_b(model, std, only)
    hf_lora, llama_lora = _hf_last_logits(model, tokenizer), _llama_last_logits(backend)
    assert backend.engine.adapter is not None
    moved = np.abs(hf_lora - hf_base).mean()
    gap = np.abs(hf_lora - llama_lora).mean()
    assert moved > 0.6  # the adapter moves the policy well above the quantisation floor
    assert gap < 0.3 and gap < 0.5 * moved, (gap, moved)
    assert _corr(hf_lora - hf_base, llama_lora - llama_floor) > 0.8
    _set_lora_b(model, 0.0)


def test_adapter_is_reexported_only_when_it_changes(policy, backend) -> None:
    model, _ = policy
    _set_lora_b(model, 0.01)
    backend.sync_adapter()
    swaps = backend.swaps
    backend.sync_adapter()
    assert backend.swaps == swaps  # same factors: nothing exported
    with torch.no_grad():
        next(p for n, p in model.named_parameters() if "lora_A" in n).add_(1e-3)
    backend.sync_adapter()
    assert backend.swaps == swaps + 1
    _set_lora_b(model, 0.0)


def test_generations_are_seeded_per_request_and_stop_exactly(policy, backend) -> None:
    requests = [GenerationRequest(messages=chat, seed=7 + i) for i, chat in enumerate(_chats())]
    first, again = backend.generate(requests), backend.generate(requests)
    assert [g.token_ids for g in first] == [g.token_ids for g in again]
    for g in first:
        assert g.finish_reason in ("stop", "length")
        assert len(g.token_ids) <= 12 and (g.finish_reason == "stop" or len(g.token_ids) == 12)
        assert g.text == backend.tokenizer.decode(list(g.token_ids), skip_special_tokens=True)
    other_seed = backend.generate([GenerationRequest(messages=requests[0].messages, seed=1234)])
    # Greedy ignores the seed. (Two copies of one prompt in one batch may still part ways at a
    # near-tie: llama.cpp's batched kernels are not batch-invariant, so compare like batches.)
    greedy = [backend.generate([GenerationRequest(messages=requests[0].messages, seed=s, greedy=True)])[0]
              for s in (1, 2)]
    assert greedy[0].token_ids == greedy[1].token_ids
    assert other_seed[0].token_ids != first[0].token_ids or first[0].finish_reason == "stop"


def test_a_prompt_longer_than_the_first_context_grows_it(policy, backend) -> None:
    long_question = "Summarise this: " + "the cat sat on the mat and looked around. " * 60
    cells = backend.engine.cells
    (reply,) = backend.generate([GenerationRequest(messages=({"role": "user", "content": long_question},), seed=0)])
    assert backend.engine.cells > cells and reply.token_ids


def test_a_closed_backend_leaves_llama_cpp_usable(policy) -> None:
    """llama.cpp's log callback is process-wide: a collected backend must not leave a dangling
    one behind (it crashed the next `llama_cpp.Llama` with a segfault)."""
    import gc

    import llama_cpp

    from sdpo.models import gguf_source
    from simbench.backends.llamacpp import LlamaCppBackend

    model, tokenizer = policy
    first = LlamaCppBackend(gguf_source("smollm2-135m"), model, tokenizer, GenerationConfig(max_new_tokens=4))
    first.close()
    del first
    gc.collect()
    llama = llama_cpp.Llama(str(gguf_source("smollm2-135m")), n_ctx=64, verbose=False)
    assert llama.tokenize(b"hello")


def test_non_gguf_models_are_refused_in_one_line(tmp_path) -> None:
    from simbench.backends.llamacpp import gguf_for

    with pytest.raises(InputError, match="--model.*needs a GGUF model"):
        gguf_for(str(tmp_path))
    with pytest.raises(InputError, match="no such GGUF file"):
        gguf_for(str(tmp_path / "absent.gguf"))


def test_short_run_end_to_end(tmp_path) -> None:
    if importlib.util.find_spec("llama_cpp") is None:
        _missing("llama-cpp-python is not installed: pip install 'simbench-online[llamacpp]'")
    from simbench.api import run

    result = run(out=tmp_path / "run", backend="llama-cpp", interactions=4, batch_size=2, probe_every=2,
                 probe_prompts=2, general_questions=0, max_new_tokens=16)
    assert str(result.status) == "complete"
    manifest = (tmp_path / "run" / "manifest.json").read_text()
    assert '"backend": "llama-cpp"' in manifest
