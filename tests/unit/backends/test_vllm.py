"""The vLLM backend's translation logic (request -> SamplingParams, adapter -> LoRARequest), its
missing-vllm error, and the GPU throughput script (CPU smoke run; GPU run skips without vLLM).
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

from simbench.backends.base import BACKENDS, GenerationRequest
from simbench.backends.hf import GenerationConfig
from simbench.backends.vllm import (
    INSTALL_HINT,
    AdapterVersions,
    VLLMBackend,
    engine_arguments,
    sampling_arguments,
    to_generation,
)
from simbench.errors import InputError, PolicyError

ROOT = Path(__file__).resolve().parents[3]
GPU_CHECK = ROOT / "benchmarks" / "gpu_check.py"
CHAT = ({"role": "user", "content": "hi"},)


def saved_adapter(folder: Path, mtime_ns: int) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    weights = folder / "adapter_model.safetensors"
    weights.write_bytes(b"weights")
    os.utime(weights, ns=(mtime_ns, mtime_ns))
    return folder


def test_importing_the_backends_imports_neither_vllm_nor_torch():
    code = (
        "import sys, simbench.backends, simbench.backends.vllm, simbench.backends.hf;"
        "print(sorted({'vllm', 'torch'} & set(sys.modules)))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_vllm_is_registered_lazily():
    assert BACKENDS.get("vllm") is VLLMBackend


def test_constructing_without_vllm_is_one_line_with_the_install_hint(monkeypatch):
    """A missing optional package is an installation the user can fix: bad input (exit 2)."""
    monkeypatch.setitem(sys.modules, "vllm", None)  # makes `import vllm` raise ImportError
    with pytest.raises(InputError) as caught:
        VLLMBackend("some/model")
    message = str(caught.value)
    assert INSTALL_HINT in message and "--backend vllm" in message
    assert "\n" not in message


def test_sampled_request_carries_its_seed_and_the_config():
    config = GenerationConfig(max_new_tokens=33, temperature=0.8, top_p=0.9)
    arguments = sampling_arguments(GenerationRequest(CHAT, seed=11), config, frozenset({7, 2}))
    assert arguments == {
        "n": 1,
        "temperature": 0.8,
        "top_p": 0.9,
        "max_tokens": 33,
        "seed": 11,
        "stop_token_ids": [2, 7],
        "ignore_eos": True,
        "skip_special_tokens": True,
    }


@pytest.mark.parametrize("request_greedy, temperature", [(True, 0.8), (False, 0.0)])
def test_greedy_request_or_zero_temperature_decodes_greedily(request_greedy, temperature):
    config = GenerationConfig(temperature=temperature, top_p=0.5)
    request = GenerationRequest(CHAT, seed=1, greedy=request_greedy)
    arguments = sampling_arguments(request, config, frozenset())
    assert (arguments["temperature"], arguments["top_p"]) == (0.0, 1.0)


def test_stop_token_is_dropped_only_when_generation_stopped(smol_tokenizer):
    hello = smol_tokenizer.encode("Hello there", add_special_tokens=False)
    end = smol_tokenizer.convert_tokens_to_ids("<|im_end|>")
    stopped = to_generation([*hello, end], "stop", frozenset({end}), smol_tokenizer)
    assert stopped.token_ids == tuple(hello) and stopped.text == "Hello there"
    assert stopped.finish_reason == "stop"
    cut = to_generation(hello, "length", frozenset({end}), smol_tokenizer)
    assert cut.token_ids == tuple(hello) and cut.finish_reason == "length"


def test_aborted_generation_is_a_policy_error(smol_tokenizer):
    with pytest.raises(PolicyError, match="finish_reason='abort'"):
        to_generation([1, 2], "abort", frozenset(), smol_tokenizer)


def test_each_new_adapter_gets_a_new_lora_id_and_a_revisit_keeps_its_id(tmp_path):
    versions = AdapterVersions()
    first = saved_adapter(tmp_path / "update-1", 1_000)
    second = saved_adapter(tmp_path / "update-2", 2_000)
    name1, id1, path1 = versions.lora_arguments(first)
    _, id2, _ = versions.lora_arguments(second)
    assert (id1, id2) == (1, 2) and path1 == str(first.resolve()) and name1 == "adapter-1"
    assert versions.lora_arguments(first)[1] == 1


def test_an_adapter_rewritten_in_place_gets_a_new_lora_id(tmp_path):
    versions = AdapterVersions()
    folder = saved_adapter(tmp_path / "current", 1_000)
    assert versions.lora_arguments(folder)[1] == 1
    saved_adapter(folder, 5_000)
    assert versions.lora_arguments(folder)[1] == 2


def test_a_folder_without_adapter_weights_is_an_input_error(tmp_path):
    with pytest.raises(InputError, match="not a saved peft adapter"):
        AdapterVersions().lora_arguments(tmp_path)


def test_engine_enables_lora_only_with_an_adapter_source_and_extra_arguments_win():
    assert engine_arguments("m", lora=False, max_lora_rank=8) == {"model": "m"}
    arguments = engine_arguments("m", lora=True, max_lora_rank=8, extra={"max_loras": 2, "dtype": "bfloat16"})
    lora = {"enable_lora": True, "max_lora_rank": 8}
    assert arguments == {"model": "m", **lora, "max_loras": 2, "dtype": "bfloat16"}


def load_gpu_check():
    spec = importlib.util.spec_from_file_location("gpu_check", GPU_CHECK)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_gpu_check_runs_on_cpu_and_skips_vllm_cleanly(capsys):
    assert load_gpu_check().main(["--device", "cpu", "--quick"]) == 0
    out = capsys.readouterr().out
    rows = [line for line in out.splitlines() if line.startswith("| hf | cpu |")]
    assert [row.split("|")[4].strip() for row in rows] == ["1", "8"]
    assert [row.split("|")[5].strip() for row in rows] == ["8", "64"]  # no early stops
    if importlib.util.find_spec("vllm") is None:
        assert "vllm not installed: skipped" in out


@pytest.mark.gpu
def test_gpu_check_serves_each_new_adapter_with_vllm():
    torch = pytest.importorskip("torch")
    if not torch.cuda.is_available():
        pytest.skip("needs CUDA")
    pytest.importorskip("vllm")
    done = subprocess.run(
        [sys.executable, str(GPU_CHECK), "--quick"], capture_output=True, text=True, timeout=600, cwd=ROOT
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert "| vllm+lora B (swap) | cuda |" in done.stdout
