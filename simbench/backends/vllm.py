"""The vLLM policy backend (GPU; `pip install 'simbench-online[vllm]'`): fast batched generation with LoRA.

The learner saves every updated adapter to disk; each `generate` asks for the current adapter
folder and sends vLLM a LoRARequest whose integer id is new whenever the adapter changed, so
vLLM (which caches adapters by id) never serves a stale one. Untested here: no GPU with vLLM.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

from sdpo.errors import ModelNotFoundError
from sdpo.models import resolve_model_folder
from simbench.backends.base import BackendContext, Generation, GenerationRequest
from simbench.backends.hf import GenerationConfig, chat_prompt_ids, resolve_stop_ids
from simbench.distribution import install_hint
from simbench.errors import InputError, PolicyError, missing_package

INSTALL_HINT = install_hint("vllm")
ADAPTER_WEIGHTS = ("adapter_model.safetensors", "adapter_model.bin")  # what peft saves
# In a run the learner trains its copy of the model on the same GPU (pick the GPU with
# CUDA_VISIBLE_DEVICES): vLLM's default of reserving 90% of its memory would starve it.
SHARED_GPU_ENGINE = {"gpu_memory_utilization": 0.5}


def import_vllm() -> Any:
    """The `vllm` module, or a one-line InputError (exit 2: an installation the user can fix)
    saying how to install it; `resolve_inputs` calls it before anything is written."""
    try:
        import vllm
    except ImportError as err:
        raise missing_package("--backend vllm", "vllm", err.msg, f"{INSTALL_HINT} on a CUDA machine",
                              "use --backend hf") from None
    return vllm


def engine_arguments(
    model_path: str, lora: bool, max_lora_rank: int, extra: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """Keyword arguments for `vllm.LLM`; `extra` (gpu_memory_utilization, dtype, ...) wins."""
    arguments: dict[str, Any] = {"model": model_path}
    if lora:
        # One adapter is live at a time; the previous one is evicted when a new id arrives.
        arguments.update(enable_lora=True, max_lora_rank=max_lora_rank, max_loras=1)
    arguments.update(extra or {})
    return arguments


def sampling_arguments(
    request: GenerationRequest, config: GenerationConfig, stop_ids: frozenset[int]
) -> dict[str, Any]:
    """Keyword arguments for `vllm.SamplingParams` that mirror the transformers backend.

    vLLM's own EOS check is switched off and the stop set passed explicitly, so both backends
    stop on exactly the same tokens (including "never stop early" for throughput runs).
    """
    greedy = request.greedy or config.temperature == 0
    return {
        "n": 1,
        "temperature": 0.0 if greedy else config.temperature,
        "top_p": 1.0 if greedy else config.top_p,
        "max_tokens": config.max_new_tokens,
        "seed": request.seed,  # vLLM seeds each request's sampler on its own
        "stop_token_ids": sorted(stop_ids),
        "ignore_eos": True,
        "skip_special_tokens": True,
    }


def to_generation(
    token_ids: Sequence[int], finish_reason: str | None, stop_ids: frozenset[int], tokenizer: Any
) -> Generation:
    """A vLLM completion as a `Generation`: the stop token dropped, text decoded like hf's."""
    if finish_reason not in ("stop", "length"):
        raise PolicyError(f"vllm backend: generation ended with finish_reason={finish_reason!r}")
    ids = list(token_ids)
    if finish_reason == "stop" and ids and ids[-1] in stop_ids:
        ids.pop()  # vLLM keeps the matched stop token id in token_ids
    return Generation(
        text=tokenizer.decode(ids, skip_special_tokens=True),
        token_ids=tuple(ids),
        finish_reason=finish_reason,
    )


def model_eos_ids(model_path: str) -> int | list[int] | None:
    """The end-of-sequence id(s) in the model folder's generation_config.json, if it has one."""
    from transformers import GenerationConfig as HFGenerationConfig

    try:
        return HFGenerationConfig.from_pretrained(model_path, local_files_only=True).eos_token_id
    except OSError:
        return None


class AdapterVersions:
    """Gives every distinct saved adapter (folder + weights file timestamp) its own LoRA id.

    A folder rewritten in place gets a new id too, because vLLM would otherwise keep serving
    the weights it cached under the old id.
    """

    def __init__(self) -> None:
        self._ids: dict[tuple[str, int], int] = {}

    def lora_arguments(self, folder: str | os.PathLike[str]) -> tuple[str, int, str]:
        """(lora_name, lora_int_id, lora_path) for `vllm.lora.request.LoRARequest`."""
        path = Path(folder).resolve()
        weights = next((path / name for name in ADAPTER_WEIGHTS if (path / name).is_file()), None)
        if weights is None:
            raise InputError(
                str(folder), "is not a saved peft adapter (no adapter_model.safetensors)",
                "save it with model.save_pretrained(folder)",
            )
        key = (str(path), weights.stat().st_mtime_ns)
        if key not in self._ids:
            self._ids[key] = len(self._ids) + 1  # vLLM requires ids >= 1
        lora_id = self._ids[key]
        return f"adapter-{lora_id}", lora_id, str(path)


def lora_rank(model: Any) -> int | None:
    """The rank of the peft LoRA adapter attached to `model`, or None when it has none."""
    configs = getattr(model, "peft_config", None) or {}
    ranks = [getattr(config, "r", None) for config in configs.values()]
    return max((r for r in ranks if isinstance(r, int)), default=None)


def vllm_lora_rank(rank: int | None) -> int:
    """The smallest `max_lora_rank` vLLM accepts that fits `rank` (vLLM allows only these)."""
    for allowed in (8, 16, 32, 64, 128, 256, 512):
        if rank is None or rank <= allowed:
            return allowed
    raise InputError("--learner-option lora_r", f"vLLM serves LoRA ranks up to 512, got {rank}")


class VLLMBackend:
    """Generates with vLLM; `adapter_dir()` names the current LoRA folder (None: base model)."""

    @classmethod
    def preflight(cls) -> None:
        import_vllm()

    @classmethod
    def from_config(cls, context: BackendContext, engine: Mapping[str, Any] | None = None) -> "VLLMBackend":
        """vLLM serving the run's model from its local folder, with the learner's adapter
        loaded by folder before every batch (weights-only arms: no LoRA at all)."""
        try:
            folder = resolve_model_folder(context.model_name)
        except ModelNotFoundError as exc:
            raise InputError("--model", str(exc)) from None
        rank = lora_rank(context.policy)
        return cls(
            folder,
            context.generation,
            adapter_dir=context.adapter_dir if rank is not None else None,
            max_lora_rank=vllm_lora_rank(rank),
            engine={**SHARED_GPU_ENGINE, **(engine or {})},
        )

    def __init__(
        self,
        model_path: str,
        config: GenerationConfig | None = None,
        adapter_dir: Callable[[], str | os.PathLike[str] | None] | None = None,
        max_lora_rank: int = 16,
        engine: Mapping[str, Any] | None = None,
    ) -> None:
        vllm = import_vllm()
        from vllm.lora.request import LoRARequest

        self.config = config or GenerationConfig()
        self.adapter_dir = adapter_dir
        self._lora_request = LoRARequest
        self._sampling_params = vllm.SamplingParams
        self._versions = AdapterVersions()
        self.llm = vllm.LLM(**engine_arguments(model_path, adapter_dir is not None, max_lora_rank, engine))
        self.tokenizer = self.llm.get_tokenizer()
        self.stop_ids = resolve_stop_ids(self.tokenizer, self.config, model_eos_ids(model_path))

    def current_lora(self) -> Any:
        """The LoRARequest for the adapter `adapter_dir()` names now, or None."""
        folder = self.adapter_dir() if self.adapter_dir is not None else None
        if folder is None:
            return None
        return self._lora_request(*self._versions.lora_arguments(folder))

    def generate(self, requests: Sequence[GenerationRequest]) -> list[Generation]:
        prompts = [
            {"prompt_token_ids": chat_prompt_ids(self.tokenizer, r.messages, self.config.system_prompt)}
            for r in requests
        ]
        params = [
            self._sampling_params(**sampling_arguments(r, self.config, self.stop_ids)) for r in requests
        ]
        outputs = self.llm.generate(prompts, params, use_tqdm=False, lora_request=self.current_lora())
        return [
            to_generation(done.token_ids, done.finish_reason, self.stop_ids, self.tokenizer)
            for done in (out.outputs[0] for out in outputs)
        ]
