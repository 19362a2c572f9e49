"""StackedLoRA on a tiny float64 Llama: each row of a mixed batch gets exactly its own
adapter (peft's logits), slots start as attach_lora's tensors, and adapters keep peft's format."""

from __future__ import annotations

import threading

import pytest
import torch
from safetensors.torch import load_file
from tinymodels import make_tiny_llama, single_torch_thread

from sdpo.adapters import ADAPTER_WEIGHTS, attach_lora, load_adapter, save_adapter, trainable_parameters
from sdpo.config import SDPOConfig
from sdpo.errors import CheckpointError, ConfigError
from sdpo.multi_lora import StackedLoRA

SEEDS = (3, 5, 7)


@pytest.fixture(autouse=True)
def _one_thread():
    with single_torch_thread():
        yield


def _peft_state(model):
    """A peft model's adapter as `slot_state` names it (no adapter name in the keys)."""
    return {k.replace(".default", ""): v.detach() for k, v in trainable_parameters(model).items()}


def _random_slots(stacked, seed=1):
    # Fresh adapters have B = 0 (no effect at all); random ones make every slot differ.
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in stacked.parameters():
            p.add_(0.05 * torch.randn(p.shape, generator=gen, dtype=p.dtype))


@pytest.fixture
def stacked(smol_tokenizer):
    model = make_tiny_llama(smol_tokenizer).double()
    out = StackedLoRA(model, SDPOConfig(), slots=len(SEEDS))
    for slot, seed in enumerate(SEEDS):
        out.init_slot(slot, SDPOConfig(seed=seed))
    _random_slots(out)
    return out


def _peft_twin(smol_tokenizer, stacked, slot):
    from peft import set_peft_model_state_dict

    twin = attach_lora(make_tiny_llama(smol_tokenizer).double(), SDPOConfig(seed=SEEDS[slot]))
    set_peft_model_state_dict(twin, stacked.slot_state(slot))
    return twin


def test_each_row_of_a_batch_mixing_three_slots_and_base_rows_gets_peft_logits(smol_tokenizer, stacked):
    ids = torch.randint(0, 2000, (5, 7), generator=torch.Generator().manual_seed(0))
    slots = [2, -1, 0, 1, -1]
    with torch.no_grad():
        with stacked.rows(slots):
            mixed = stacked.model(input_ids=ids).logits
        outside = stacked.model(input_ids=ids).logits
        base = make_tiny_llama(smol_tokenizer).double()(input_ids=ids).logits
        for row, slot in enumerate(slots):
            twin = None if slot == -1 else _peft_twin(smol_tokenizer, stacked, slot)
            want = base[row] if twin is None else twin(input_ids=ids[row : row + 1]).logits[0]
            torch.testing.assert_close(mixed[row], want, atol=1e-10, rtol=0)
    torch.testing.assert_close(outside, base, atol=0, rtol=0)  # outside rows(): the base model
    assert not torch.allclose(mixed[0], mixed[2])


def test_rows_apply_only_in_the_thread_that_opened_them(smol_tokenizer, stacked):
    ids = torch.randint(0, 2000, (1, 5), generator=torch.Generator().manual_seed(3))
    seen = {}
    worker = threading.Thread(target=lambda: seen.update(logits=stacked.model(input_ids=ids).logits))
    with torch.no_grad():
        base = stacked.model(input_ids=ids).logits
        with stacked.rows([0]):
            worker.start()
            worker.join()
            own = stacked.model(input_ids=ids).logits
    assert torch.equal(seen["logits"], base) and not torch.allclose(own, base)


def test_greedy_generate_with_kv_cache_keeps_each_rows_slot(smol_tokenizer, stacked):
    prompt = torch.randint(0, 2000, (1, 6), generator=torch.Generator().manual_seed(2)).repeat(2, 1)
    settings = {"max_new_tokens": 6, "do_sample": False, "pad_token_id": smol_tokenizer.pad_token_id}
    with torch.no_grad():
        with stacked.rows([1, -1]):
            both = stacked.model.generate(prompt, **settings)
        alone = _peft_twin(smol_tokenizer, stacked, 1).generate(prompt[:1], **settings)
        base = stacked.model.generate(prompt[:1], **settings)
    assert both[0].tolist() == alone[0].tolist()
    assert both[1].tolist() == base[0].tolist()


def test_init_slot_gives_the_tensors_attach_lora_starts_from_with_the_same_seed(smol_tokenizer):
    stacked = StackedLoRA(make_tiny_llama(smol_tokenizer).double(), SDPOConfig(), slots=2)
    stacked.init_slot(1, SDPOConfig(seed=11))
    reference = _peft_state(attach_lora(make_tiny_llama(smol_tokenizer).double(), SDPOConfig(seed=11)))
    got = stacked.slot_state(1)
    assert list(got) == list(reference)
    assert all(torch.equal(got[k], reference[k]) for k in reference)
    assert all(not v.any() for v in stacked.slot_state(0).values())  # untouched slot: no adapter
    assert not torch.equal(got[next(iter(got))], reference[next(iter(got))] * 0)


def test_slots_beside_a_bf16_base_are_float32_like_peft_adapters(smol_tokenizer):
    stacked = StackedLoRA(make_tiny_llama(smol_tokenizer).to(torch.bfloat16), SDPOConfig(), slots=1)
    stacked.init_slot(0, SDPOConfig(seed=4))
    reference = _peft_state(attach_lora(make_tiny_llama(smol_tokenizer).to(torch.bfloat16), SDPOConfig(seed=4)))
    assert all(v.dtype == torch.float32 and torch.equal(v, reference[k]) for k, v in stacked.slot_state(0).items())
    with torch.no_grad(), stacked.rows([0]):
        logits = stacked.model(input_ids=torch.tensor([[5, 6, 7]])).logits
    assert logits.dtype == torch.bfloat16


def test_slot_state_has_save_adapter_keys_and_round_trips_through_a_peft_folder(smol_tokenizer, stacked, tmp_path):
    twin = _peft_twin(smol_tokenizer, stacked, 0)
    save_adapter(twin, tmp_path / "peft")
    written = load_file(str(tmp_path / "peft" / ADAPTER_WEIGHTS))
    assert set(written) == set(stacked.slot_state(0))
    stacked.save_slot(2, tmp_path / "slot")
    fresh = attach_lora(make_tiny_llama(smol_tokenizer).double(), SDPOConfig())
    load_adapter(fresh, tmp_path / "slot")  # the single-run loader reads a saved slot
    assert all(torch.equal(v, stacked.slot_state(2)[k]) for k, v in _peft_state(fresh).items())
    stacked.load_slot(1, written)
    assert all(torch.equal(stacked.slot_state(1)[k], stacked.slot_state(0)[k]) for k in written)


def test_load_slot_refuses_an_adapter_of_another_shape(smol_tokenizer, stacked):
    other = StackedLoRA(make_tiny_llama(smol_tokenizer).double(), SDPOConfig(lora_r=4), slots=1)
    with pytest.raises(CheckpointError, match="shape"):
        stacked.load_slot(0, other.slot_state(0))
    with pytest.raises(CheckpointError, match="missing"):
        stacked.load_slot(0, {})


def test_bad_settings_are_refused(smol_tokenizer, stacked):
    model = make_tiny_llama(smol_tokenizer)
    with pytest.raises(ConfigError, match="lora_dropout"):
        StackedLoRA(model, SDPOConfig(lora_dropout=0.1), slots=2)
    with pytest.raises(ConfigError, match="target_modules"):
        StackedLoRA(model, SDPOConfig(target_modules=("nope",)), slots=2)
    with pytest.raises(ConfigError, match="lora_r"):
        stacked.init_slot(0, SDPOConfig(lora_r=4))
    with pytest.raises(ValueError, match="slots must lie"), stacked.rows([0, 3]):
        pass
    with pytest.raises(ValueError, match="3 slots"), torch.no_grad(), stacked.rows([0, 1, 2]):
        stacked.model(input_ids=torch.zeros((2, 3), dtype=torch.long))
