"""The llama.cpp policy backend (CPU; `pip install 'simbench-online[llamacpp]'`).

The run's GGUF weights are decoded by llama.cpp, many chats per decode step (one llama.cpp
sequence and KV stream each). The learner trains its LoRA adapter on the transformers
copy of the same weights; before each batch the backend compares the adapter with the one it
serves and, when it changed, exports it as a GGUF LoRA adapter (sdpo/gguf_lora.py) and swaps
it into the context: the CPU mirror of vLLM's adapter hot-swap. Sampling is the transformers
backend's own (`next_tokens` on per-request uniforms) applied to llama.cpp's logits, and
prompts are tokenised by the same chat template, so only the forward pass differs: llama.cpp
multiplies Q4_1 weights by 8-bit-quantised activations, so replies are not token-identical
to `--backend hf` (compare curves within their intervals, not bytes).
"""

from __future__ import annotations

import ctypes
import tempfile
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from sdpo.errors import ModelNotFoundError
from sdpo.gguf_lora import lora_tensors, write_lora_gguf
from sdpo.models import gguf_source
from simbench.backends.base import BackendContext, Generation, GenerationRequest
from simbench.backends.hf import (
    GenerationConfig,
    chat_prompt_ids,
    length_sorted_batches,
    next_tokens,
    request_uniforms,
    resolve_stop_ids,
)
from simbench.distribution import install_hint
from simbench.errors import InputError, PolicyError, missing_package

INSTALL_HINT = install_hint("llamacpp")
PREFILL_CHUNK = 512  # prompt tokens per llama_decode call while filling the KV cache
_QUIET_LOG: Any = None  # the one llama.cpp log callback (kept alive for the process)


def import_llama_cpp() -> Any:
    """The `llama_cpp` module, or a one-line InputError (exit 2: an installation the user can
    fix) saying how to install it."""
    try:
        import llama_cpp
    except ImportError as err:
        raise missing_package("--backend llama-cpp", "llama_cpp", err.msg, INSTALL_HINT,
                              "use --backend hf") from None
    return llama_cpp


def gguf_for(model_name: str) -> Path:
    """The GGUF file behind `--model` (a known short name or a .gguf path), or an InputError."""
    try:
        path = gguf_source(model_name)
    except ModelNotFoundError as exc:
        raise InputError("--model", str(exc)) from None
    if path is None:
        raise InputError("--model", f"--backend llama-cpp needs a GGUF model, and {model_name!r} is not one",
                         "use smollm2-135m or a .gguf file, or --backend hf")
    return path


class _Engine:
    """One llama.cpp model + context (ctypes), sized for `seqs` sequences of `cells` KV cells each."""

    def __init__(self, llama_cpp: Any, gguf: Path, seqs: int, cells: int, threads: int) -> None:
        self.lib = llama_cpp
        self._silence()
        llama_cpp.llama_backend_init()
        params = llama_cpp.llama_model_default_params()
        params.n_gpu_layers = 0
        self.model = llama_cpp.llama_model_load_from_file(str(gguf).encode(), params)
        if not self.model:
            raise PolicyError(f"--backend llama-cpp: llama.cpp could not load {gguf}")
        self.n_vocab = llama_cpp.llama_vocab_n_tokens(llama_cpp.llama_model_get_vocab(self.model))
        self.threads, self.seqs, self.ctx, self.cells = threads, 0, None, 0
        self.adapter: Any = None
        self.reserve(seqs, cells)

    def _silence(self) -> None:
        # llama.cpp logs every load to stderr; a run's own progress display is what matters.
        # The callback is process-wide in llama.cpp, so it must outlive this engine: a freed
        # ctypes callback crashes the next llama.cpp user (measured: a segfault in `Llama()`).
        global _QUIET_LOG
        if _QUIET_LOG is None:
            _QUIET_LOG = self.lib.llama_log_callback(lambda level, text, data: None)
        self.lib.llama_log_set(_QUIET_LOG, ctypes.c_void_p(0))

    def reserve(self, seqs: int, cells: int) -> None:
        """Make sure the context holds `seqs` sequences of up to `cells` KV cells each."""
        if self.ctx is not None and seqs <= self.seqs and cells <= self.cells:
            return
        lib = self.lib
        self._free_context()
        params = lib.llama_context_default_params()
        self.seqs, self.cells = max(seqs, self.seqs), max(1 << (max(cells, self.cells) - 1).bit_length(), 256)
        # One KV stream per sequence (not one unified pool): each token's attention then reads
        # its own sequence's cells only; measured 1.1x faster than a unified pool at batch 16-32.
        params.n_ctx, params.n_seq_max, params.kv_unified = self.cells * self.seqs, self.seqs, False
        params.n_batch = params.n_ubatch = max(PREFILL_CHUNK, self.seqs)
        params.n_threads = params.n_threads_batch = self.threads
        params.no_perf = True
        self.ctx = lib.llama_init_from_model(self.model, params)
        if not self.ctx:
            raise PolicyError(f"--backend llama-cpp: llama.cpp could not make a context of {self.cells} cells")
        self.batch: Any = lib.llama_batch_init(params.n_batch, 0, 1)
        self.capacity: int = params.n_batch
        if self.adapter is not None:
            self.use_adapter(self.adapter)

    def _free_context(self) -> None:
        if self.ctx is not None:
            self.lib.llama_batch_free(self.batch)
            self.lib.llama_free(self.ctx)
            self.ctx = None

    def close(self) -> None:
        """Free the context, batch, adapter and model (idempotent)."""
        self._free_context()
        if self.adapter is not None:
            self.lib.llama_adapter_lora_free(self.adapter)
            self.adapter = None
        if self.model:
            self.lib.llama_model_free(self.model)
            self.model = None

    def use_adapter(self, adapter: Any) -> None:
        """Serve `adapter` (a loaded llama_adapter_lora, or None for the base weights); the
        engine owns it from now on and frees the one it served before."""
        lib = self.lib
        old, self.adapter = self.adapter, adapter
        if adapter is None:
            status = lib.llama_set_adapters_lora(self.ctx, None, 0, None)
        else:
            adapters = (lib.llama_adapter_lora_p_ctypes * 1)(adapter)
            status = lib.llama_set_adapters_lora(self.ctx, adapters, 1, (ctypes.c_float * 1)(1.0))
        if status != 0:
            raise PolicyError(f"--backend llama-cpp: llama.cpp refused the LoRA adapter (status {status})")
        if old is not None and old is not adapter:
            lib.llama_adapter_lora_free(old)

    def load_adapter(self, path: Path) -> Any:
        adapter = self.lib.llama_adapter_lora_init(self.model, str(path).encode())
        if not adapter:
            raise PolicyError(f"--backend llama-cpp: llama.cpp could not load the exported adapter {path}")
        return adapter

    def clear(self) -> None:
        self.lib.llama_memory_clear(self.lib.llama_get_memory(self.ctx), True)

    def drop(self, seq: int) -> None:
        self.lib.llama_memory_seq_rm(self.lib.llama_get_memory(self.ctx), seq, -1, -1)

    def decode(self, tokens: Sequence[tuple[int, int, int, bool]]) -> Any:
        """Run (token, position, sequence, wants_logits) rows; returns the logits of the rows
        that want them, in order, as a float32 (n, vocab) numpy array."""
        batch, outputs = self.batch, []
        for start in range(0, len(tokens), self.capacity):
            chunk = tokens[start : start + self.capacity]
            for i, (token, position, seq, wants) in enumerate(chunk):
                batch.token[i], batch.pos[i], batch.n_seq_id[i] = token, position, 1
                batch.seq_id[i][0], batch.logits[i] = seq, wants
            batch.n_tokens = len(chunk)
            status = self.lib.llama_decode(self.ctx, batch)
            if status != 0:
                raise PolicyError(f"--backend llama-cpp: llama_decode failed (status {status})")
            wanted = sum(1 for row in chunk if row[3])
            if wanted:
                pointer = self.lib.llama_get_logits(self.ctx)
                outputs.append(np.ctypeslib.as_array(pointer, shape=(wanted, self.n_vocab)).copy())
        return np.concatenate(outputs) if outputs else np.zeros((0, self.n_vocab), dtype=np.float32)


class LlamaCppBackend:
    """Generates with llama.cpp from the run's GGUF, serving the learner's current LoRA."""

    @classmethod
    def preflight(cls) -> None:
        import_llama_cpp()

    @classmethod
    def check_settings(cls, model_name: str, device: str) -> Path:
        """The GGUF file of the run's --model, if --model and --device suit this backend
        (called before any model loads)."""
        if device != "cpu":
            raise InputError("--device", f"--backend llama-cpp runs on the CPU, not {device!r}",
                             "use --device cpu, or --backend hf/vllm")
        return gguf_for(model_name)

    @classmethod
    def from_config(cls, context: BackendContext) -> "LlamaCppBackend":
        gguf = cls.check_settings(context.model_name, context.device)
        return cls(gguf, context.policy, context.tokenizer, context.generation)

    def __init__(self, gguf: Path, policy: Any, tokenizer: Any, config: GenerationConfig | None = None,
                 threads: int | None = None) -> None:
        import torch

        self.config = config or GenerationConfig()
        self.policy, self.tokenizer = policy, tokenizer
        model_eos = getattr(getattr(policy, "generation_config", None), "eos_token_id", None)
        self.stop_ids = resolve_stop_ids(tokenizer, self.config, model_eos)
        self.gguf = Path(gguf)
        self.engine = _Engine(import_llama_cpp(), self.gguf, self.config.batch_size,
                              256 + self.config.max_new_tokens,
                              threads or torch.get_num_threads())
        if self.engine.n_vocab > len(tokenizer):
            raise PolicyError(f"--backend llama-cpp: {self.gguf.name} has {self.engine.n_vocab} tokens, "
                              f"the run's tokenizer {len(tokenizer)}: not the same model")
        self._served: list[Any] | None = None  # the LoRA factors the loaded adapter was made from
        self._scratch = tempfile.TemporaryDirectory(prefix="simbench-llamacpp-")
        self.swaps = 0

    def close(self) -> None:
        """Free llama.cpp's model and context now (also done when the backend is collected)."""
        engine = getattr(self, "engine", None)
        if engine is not None:
            engine.close()

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:  # interpreter shutdown: llama.cpp may already be gone
            pass

    def sync_adapter(self) -> None:
        """Serve the policy's current LoRA: re-export and swap only when a factor changed."""
        import torch

        named = [(n, p.detach()) for n, p in self.policy.named_parameters() if "lora_" in n]
        current = [p for _, p in named]
        if self._served is not None and len(current) == len(self._served) and all(
                torch.equal(a, b) for a, b in zip(current, self._served)):
            return
        if all(not bool(p.any()) for n, p in named if "lora_B" in n):
            adapter = None  # no adapter, or B = 0 (a fresh one): the base weights exactly, faster
        else:
            config = self.policy.config  # a transformers model (or its PEFT wrapper)
            tensors = lora_tensors(self.policy, config.num_attention_heads,
                                   getattr(config, "num_key_value_heads", None) or config.num_attention_heads)
            path = write_lora_gguf(tensors, Path(self._scratch.name) / f"adapter-{self.swaps}.gguf")
            adapter = self.engine.load_adapter(path)
            path.unlink()
        self.engine.use_adapter(adapter)
        self._served = [p.clone() for p in current]
        self.swaps += 1

    def generate(self, requests: Sequence[GenerationRequest]) -> list[Generation]:
        self.sync_adapter()
        prompts = [chat_prompt_ids(self.tokenizer, r.messages, self.config.system_prompt) for r in requests]
        results: dict[int, Generation] = {}
        for batch in length_sorted_batches([len(p) for p in prompts], self.config.batch_size):
            outputs = self._generate_batch([prompts[i] for i in batch], [requests[i] for i in batch])
            results.update(zip(batch, outputs))
        return [results[i] for i in range(len(requests))]

    def _generate_batch(self, prompts: list[list[int]], requests: list[GenerationRequest]) -> list[Generation]:
        import torch

        config, engine = self.config, self.engine
        engine.reserve(len(prompts), max(len(p) for p in prompts) + config.max_new_tokens)
        engine.clear()
        greedy = torch.tensor([r.greedy or config.temperature == 0 for r in requests])
        uniforms = torch.stack([request_uniforms(r.seed, config.max_new_tokens) for r in requests])
        logits = engine.decode([(token, pos, seq, pos == len(prompt) - 1)
                                for seq, prompt in enumerate(prompts) for pos, token in enumerate(prompt)])
        positions = [len(p) for p in prompts]
        live = list(range(len(prompts)))
        tokens_out: list[list[int]] = [[] for _ in prompts]
        finish = ["length"] * len(prompts)
        for step in range(config.max_new_tokens):
            chosen = next_tokens(torch.from_numpy(logits), greedy[live], uniforms[live, step],
                                 config.temperature, config.top_p).tolist()
            still = []
            for seq, token in zip(live, chosen):
                if token in self.stop_ids:
                    finish[seq] = "stop"
                    engine.drop(seq)
                else:
                    tokens_out[seq].append(token)
                    still.append((seq, token))
            if not still or step == config.max_new_tokens - 1:
                break
            logits = engine.decode([(token, positions[seq] + step, seq, True) for seq, token in still])
            live = [seq for seq, _ in still]
        engine.clear()
        return [
            Generation(text=self.tokenizer.decode(ids, skip_special_tokens=True), token_ids=tuple(ids),
                       finish_reason=reason)
            for ids, reason in zip(tokens_out, finish)
        ]
