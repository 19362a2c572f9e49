"""The vLLM path of a run, end to end except the engine: `--backend vllm` builds a VLLMBackend
through its `from_config` hook on a real learner (tiny Llama, real LoRA, real SDPO updates),
and every generate call hands the engine the learner's current adapter folder.

vLLM is not installable here (no CUDA), so a fake `vllm` module stands in for the engine: it
records what it is given (model folder, engine arguments, prompts, LoRARequests) and answers
with fixed token ids. Everything on simbench's side of the boundary is real.
"""

from __future__ import annotations

import sys
import types
from pathlib import Path

import pytest
from safetensors.torch import load_file
from tinymodels import make_tiny_llama, single_torch_thread

from simbench.backends import BACKENDS
from simbench.backends.base import BackendContext, GenerationRequest
from simbench.backends.hf import GenerationConfig
from simbench.config import build_config
from simbench.errors import InputError
from simbench.learners import LEARNERS
from simbench.learners.base import LearnerContext, Turn
from simbench.runner.build import resolve_inputs

CHAT = ({"role": "user", "content": "What is DNS?"},)


class FakeEngine:
    """Stands in for `vllm.LLM`: records calls, answers every prompt with ids 5, 6 and a stop."""

    instances: list[FakeEngine] = []

    def __init__(self, **arguments):
        self.arguments = arguments
        self.calls: list[dict] = []
        self.tokenizer = FakeEngine.tokenizer
        FakeEngine.instances.append(self)

    def get_tokenizer(self):
        return self.tokenizer

    def generate(self, prompts, params, use_tqdm, lora_request):
        self.calls.append({"prompts": prompts, "params": params, "lora": lora_request})
        stop = min(params[0].kwargs["stop_token_ids"])
        done = types.SimpleNamespace(token_ids=[5, 6, stop], finish_reason="stop")
        return [types.SimpleNamespace(outputs=[done]) for _ in prompts]


class Recorded:
    def __init__(self, *args, **kwargs):
        self.args, self.kwargs = args, kwargs


@pytest.fixture
def fake_vllm(monkeypatch, smol_tokenizer):
    FakeEngine.instances = []
    FakeEngine.tokenizer = smol_tokenizer
    vllm = types.ModuleType("vllm")
    vllm.LLM, vllm.SamplingParams = FakeEngine, Recorded
    lora = types.ModuleType("vllm.lora")
    request = types.ModuleType("vllm.lora.request")
    request.LoRARequest = Recorded
    monkeypatch.setitem(sys.modules, "vllm", vllm)
    monkeypatch.setitem(sys.modules, "vllm.lora", lora)
    monkeypatch.setitem(sys.modules, "vllm.lora.request", request)
    return FakeEngine


@pytest.fixture
def model_folder(tmp_path, smol_tokenizer):
    folder = tmp_path / "tiny-model"
    make_tiny_llama(smol_tokenizer).save_pretrained(folder)
    smol_tokenizer.save_pretrained(folder)
    return folder


def build(learner_name, model_folder, tokenizer, options=None):
    model = make_tiny_llama(tokenizer)
    learner = LEARNERS.get(learner_name).from_config(
        LearnerContext(model=model, tokenizer=tokenizer, seed=0, options=options or {}))
    context = BackendContext(model_name=str(model_folder), device="cpu", policy=learner.policy,
                             tokenizer=tokenizer, generation=GenerationConfig(max_new_tokens=8),
                             adapter_dir=learner.adapter_dir)
    return learner, BACKENDS.get("vllm").from_config(context)


def turn(tokenizer, t):
    ids = tuple(tokenizer.encode("A long answer with many words in it.", add_special_tokens=False))
    return Turn(t=t, turn=0, messages=CHAT, response_text="A long answer.", response_ids=ids,
                follow_up="Keep it to one sentence.", active=("concise",))


def test_each_generate_after_an_update_hands_vllm_the_new_adapter_folder(fake_vllm, model_folder, smol_tokenizer):
    with single_torch_thread():
        learner, backend = build("sdpo-token", model_folder, smol_tokenizer, {"lora_r": 8, "lr": 1e-2})
        (engine,) = fake_vllm.instances
        assert engine.arguments["model"] == str(model_folder)
        assert engine.arguments["enable_lora"] and engine.arguments["max_lora_rank"] == 8

        first = backend.generate([GenerationRequest(CHAT, seed=1)])
        again = backend.generate([GenerationRequest(CHAT, seed=2)])
        learner.observe([turn(smol_tokenizer, 0), turn(smol_tokenizer, 1)])
        after = backend.generate([GenerationRequest(CHAT, seed=3)])

    loras = [call["lora"] for call in engine.calls]
    (name0, id0, path0), (name1, id1, path1), (name2, id2, path2) = (lora.args for lora in loras)
    assert (id0, path0) == (id1, path1)  # no update in between: the same adapter, not rewritten
    assert id2 != id0 and path2 != path0  # after the update: a new folder and a new LoRA id
    assert not Path(path0).exists()  # the stale adapter is gone
    saved = load_file(str(Path(path2) / "adapter_model.safetensors"))
    live = {name: p.detach() for name, p in learner.policy.named_parameters() if p.requires_grad}
    assert len(saved) == len(live) > 0
    for key, tensor in saved.items():  # the folder holds the learner's current weights
        match = [p for name, p in live.items() if name.replace(".default", "") == key]
        assert len(match) == 1 and match[0].equal(tensor)
    assert [g.token_ids for g in first + again + after] == [(5, 6)] * 3
    assert engine.calls[0]["prompts"][0]["prompt_token_ids"][-1] != 5  # the chat prompt, not the answer


def test_an_arm_without_adapter_generates_with_the_base_model(fake_vllm, model_folder, smol_tokenizer):
    learner, backend = build("in-context-oracle", model_folder, smol_tokenizer)
    backend.generate([GenerationRequest(CHAT, seed=1)])
    (engine,) = fake_vllm.instances
    assert "enable_lora" not in engine.arguments
    assert engine.calls[0]["lora"] is None and learner.adapter_dir() is None


def test_without_vllm_a_vllm_run_fails_at_validation_before_any_model_loads(monkeypatch):
    monkeypatch.setitem(sys.modules, "vllm", None)  # makes `import vllm` raise ImportError
    with pytest.raises(InputError, match="--backend vllm: vllm cannot be imported") as caught:
        resolve_inputs(build_config({"backend": "vllm"}))
    assert "\n" not in str(caught.value)
