"""The recipe end to end on a tiny random Llama: samples, examples, LoRA training, the adapter
folder, its determinism, and the preset loading it as base + merged adapter."""

from __future__ import annotations

import json

import pytest
from cli_inprocess import run_main
from tinymodels import make_tiny_llama, single_torch_thread

from sdpo import presets
from sdpo.models import load_policy
from simbench.preset.data import generate_samples
from simbench.preset.train import RECIPE_FILE, RecipeSettings, train_preset

PROMPTS = ["Why is the sky blue?", "How do I boil an egg?", "Name a fast animal.", "What is rain?"]
SETTINGS = RecipeSettings(max_new_tokens=12, batch_size=4, relevant_per_sample=5, irrelevant_share=1.0,
                          plain_share=1.0)


def _train(tokenizer, out, settings=SETTINGS):
    with single_torch_thread():
        return train_preset(settings, out, loader=lambda name, device: (make_tiny_llama(tokenizer), tokenizer),
                            prompts=PROMPTS)


@pytest.fixture(scope="module")
def trained(smol_tokenizer, tmp_path_factory):
    out = tmp_path_factory.mktemp("recipe") / "adapter"
    return _train(smol_tokenizer, out), out


def test_samples_are_the_models_own_seeded_answers(smol_tokenizer):
    model = make_tiny_llama(smol_tokenizer)
    with single_torch_thread():
        first = generate_samples(model, smol_tokenizer, PROMPTS, seed=0, max_new_tokens=6, temperature=0.8)
        again = generate_samples(model, smol_tokenizer, PROMPTS, seed=0, max_new_tokens=6, temperature=0.8)
    assert first == again and [s.prompt for s in first] == PROMPTS
    for sample in first:
        assert 1 <= len(sample.token_ids) <= 6
        assert smol_tokenizer.decode(list(sample.token_ids), skip_special_tokens=True).strip() == sample.text.strip()


def test_the_recipe_writes_a_peft_adapter_and_its_record(trained):
    record, out = trained
    assert sorted(p.name for p in out.iterdir()) == ["adapter_config.json", "adapter_model.safetensors", RECIPE_FILE]
    written = json.loads((out / RECIPE_FILE).read_text())
    assert written["digest"] == SETTINGS.digest() == record["digest"]
    assert written["samples"] == len(PROMPTS) and sum(written["examples"].values()) >= 2 * len(PROMPTS)
    assert len(written["epoch_losses"]) == SETTINGS.epochs and written["epoch_losses"][0] > 0
    assert not set(written["trained_preferences"]) & set(written["held_out_preferences"])
    assert not list(out.parent.glob(".adapter.partial-*"))


def test_the_same_settings_give_the_same_adapter_bytes(trained, smol_tokenizer, tmp_path):
    _, out = trained
    _train(smol_tokenizer, tmp_path / "again")
    assert (tmp_path / "again" / "adapter_model.safetensors").read_bytes() == (out / "adapter_model.safetensors").read_bytes()


def test_a_preset_loads_the_recipes_adapter_merged_into_its_base(trained, smol_tokenizer, tmp_path, monkeypatch):
    import torch
    from safetensors.torch import load_file

    _, adapter = trained
    base_folder = tmp_path / "base"
    base = make_tiny_llama(smol_tokenizer)
    base.save_pretrained(base_folder)
    smol_tokenizer.save_pretrained(base_folder)
    monkeypatch.setattr(presets, "ADAPTERS_DIR", adapter.parent)
    monkeypatch.setitem(presets.KNOWN_PRESETS, "tiny-fr", presets.AdapterPreset(
        base=str(base_folder), adapter=adapter.name, summary="test", rebuild="rebuild it"))
    model, _ = load_policy("tiny-fr", cache_dir=tmp_path / "cache")
    weights = load_file(str(adapter / "adapter_model.safetensors"))
    scale = SETTINGS.lora_alpha / SETTINGS.lora_r
    merged = dict(model.named_parameters())
    checked = 0
    for name, w in base.named_parameters():
        stem = name.removesuffix(".weight")
        key_a = f"base_model.model.{stem}.lora_A.weight"
        if key_a in weights:
            delta = (weights[key_a.replace("lora_A", "lora_B")] @ weights[key_a]) * scale
            assert torch.equal(merged[name], w + delta), name
            checked += 1
        else:
            assert torch.equal(merged[name], w), name
    assert checked == 2 * len(SETTINGS.target_modules)  # 2 layers x q, k, v, o
    cached = list((tmp_path / "cache").iterdir())
    assert [p.name for p in cached] == [f"tiny-fr-{presets.adapter_digest(adapter)}"]
    assert (cached[0] / f"preset-{RECIPE_FILE}").is_file()


def test_train_preset_cli_refuses_a_file_as_out_before_loading_anything(capsys, tmp_path):
    target = tmp_path / "adapter"
    target.write_text("not a folder")
    code, out, err = run_main(capsys, "train-preset", "--out", target)
    assert code == 2 and out == "" and err.count("\n") == 1
    assert err.startswith("error: --out:") and str(target) in err
    assert target.read_text() == "not a folder"


def test_self_targets_replace_every_rewrite_by_an_in_context_answer_or_drop_it(smol_tokenizer, tmp_path):
    from dataclasses import replace

    record = _train(smol_tokenizer, tmp_path / "self", replace(SETTINGS, targets="self"))
    assert "rewrite" not in record["examples"]
    assert record["settings"]["targets"] == "self" and record["digest"] != SETTINGS.digest()
