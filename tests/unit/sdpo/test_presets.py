"""Presets: base + shipped adapter, merged once into a cache named by the adapter's hash;
clear errors when the adapter is missing; online LoRA on top restores bit-exactly."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from tinymodels import make_tiny_llama

from sdpo import models, presets
from sdpo.adapters import attach_lora, merged_lora, save_adapter
from sdpo.errors import ModelNotFoundError

LORA = SimpleNamespace(lora_r=4, lora_alpha=8.0, lora_dropout=0.0, target_modules=("q_proj", "v_proj"), seed=0)


@pytest.fixture
def preset(smol_tokenizer, tmp_path, monkeypatch):
    """A preset 'tiny-fr': a saved tiny base folder and a LoRA adapter with non-zero B."""
    import torch

    base_folder = tmp_path / "base"
    make_tiny_llama(smol_tokenizer).save_pretrained(base_folder)
    smol_tokenizer.save_pretrained(base_folder)
    adapters = tmp_path / "adapters"
    wrapped = attach_lora(make_tiny_llama(smol_tokenizer), LORA)
    with torch.no_grad():
        for name, p in wrapped.named_parameters():
            if "lora_B" in name:
                p.normal_(0, 0.05)
    save_adapter(wrapped, adapters / "tiny-fr")
    monkeypatch.setattr(presets, "ADAPTERS_DIR", adapters)
    monkeypatch.setitem(presets.KNOWN_PRESETS, "tiny-fr", presets.AdapterPreset(
        base=str(base_folder), adapter="tiny-fr", summary="test", rebuild="simbench train-preset --out X"))
    return SimpleNamespace(base=base_folder, adapter=adapters / "tiny-fr", cache=tmp_path / "cache")


def test_a_preset_differs_from_its_base_and_is_cached_by_adapter_hash(preset):
    import torch

    fr, _ = models.load_policy("tiny-fr", cache_dir=preset.cache)
    base, _ = models.load_policy(str(preset.base))
    changed = [n for n, p in base.named_parameters() if not torch.equal(p, dict(fr.named_parameters())[n])]
    assert changed and all("q_proj" in n or "v_proj" in n for n in changed)
    first = models.resolve_model_folder("tiny-fr", cache_dir=preset.cache)
    assert models.resolve_model_folder("tiny-fr", cache_dir=preset.cache) == first  # reused
    weights = preset.adapter / presets.ADAPTER_WEIGHTS
    weights.write_bytes(weights.read_bytes()[:-4] + b"\x00\x00\x00\x00")  # a retrained adapter
    assert models.resolve_model_folder("tiny-fr", cache_dir=preset.cache) != first


def test_a_missing_adapter_is_one_line_naming_the_rebuild_command(preset):
    (preset.adapter / presets.ADAPTER_WEIGHTS).unlink()
    for call in (models.check_available, models.resolve_model_folder):
        with pytest.raises(ModelNotFoundError) as err:
            call("tiny-fr", cache_dir=preset.cache)
        assert "tiny-fr" in str(err.value) and "simbench train-preset" in str(err.value)
        assert "\n" not in str(err.value)
    assert not preset.cache.exists()  # nothing written


def test_online_lora_on_a_preset_merges_and_restores_bit_exactly(preset):
    import torch

    fr, _ = models.load_policy("tiny-fr", cache_dir=preset.cache)
    online = attach_lora(fr, SimpleNamespace(**{**vars(LORA), "seed": 1}))
    with torch.no_grad():
        for name, p in online.named_parameters():
            if "lora_B" in name:
                p.normal_(0, 0.05)
    before = {n: p.detach().clone() for n, p in online.named_parameters()}
    with merged_lora(online):
        pass
    assert all(torch.equal(p, before[n]) for n, p in online.named_parameters())


def test_known_presets_are_listed_in_the_not_found_hint():
    with pytest.raises(ModelNotFoundError, match="smollm2-135m-fr"):
        models.resolve_model_folder("no-such-short-name")
