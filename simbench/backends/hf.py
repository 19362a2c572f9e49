"""The transformers policy backend: batched, KV-cached, per-request-seeded chat generation.

Decode is memory-bound, so requests are generated in left-padded batches; each request draws
its sampling noise from its own seed, so its reply does not depend on which batch it lands in.
"""

from __future__ import annotations

import contextlib
import inspect
from dataclasses import dataclass
from typing import Any, Sequence

from sdpo.adapters import merged_lora
from sdpo.hindsight import prompt_ids
from sdpo.precision import PATHS, bf16_weight_shadows
from simbench.backends.base import BackendContext, Generation, GenerationRequest, with_system_prompt
from simbench.errors import InputError

# Decoding fewer rows than this stays fp32 on the bf16 path: converting every step's small
# activations costs more than the halved weight reads save (benchmarks/PEERS.md: batch 1
# 0.82x, batch 4 1.12x, batch 8 1.30x, batch 16 1.37x of fp32's tokens/s on AMX).
BF16_DECODE_MIN_BATCH = 4
END_OF_TURN = "<|im_end|>"  # ChatML's end-of-turn token (SmolLM2, Qwen): stops a reply


@dataclass(frozen=True)
class GenerationConfig:
    """How replies are sampled; shared by the transformers and vLLM backends."""

    max_new_tokens: int = 256
    """Longest reply in tokens; a reply cut here has finish_reason "length"."""
    temperature: float = 0.7
    """Softmax temperature; 0 decodes greedily for every request."""
    top_p: float = 1.0
    """Nucleus sampling: sample only from the smallest set of tokens with this much mass."""
    stop_token_ids: tuple[int, ...] | None = None
    """Token ids that end a reply; None: the tokenizer's and model's end-of-sequence tokens
    plus ChatML's <|im_end|>; (): never stop early (throughput measurements)."""
    stop_strings: tuple[str, ...] = ()
    """Extra stop tokens given as text (e.g. "<|im_end|>"); each must be ONE vocabulary token,
    so the returned token ids never need cutting mid-token."""
    system_prompt: str | None = None
    """System message put before chats that do not start with their own system message."""
    batch_size: int = 8
    """Requests decoded together."""
    matmul_path: str = "fp32"
    """"fp32", or "bf16": decode with bf16 copies of the frozen (LoRA-merged) weights, made
    per batch of at least BF16_DECODE_MIN_BATCH requests (sdpo/precision.py); the vLLM backend ignores it."""

    def __post_init__(self) -> None:
        if self.max_new_tokens < 1:
            raise InputError("generation.max_new_tokens", f"must be >= 1, got {self.max_new_tokens!r}")
        if not self.temperature >= 0:
            raise InputError("generation.temperature", f"must be >= 0, got {self.temperature!r}")
        if not 0 < self.top_p <= 1:
            raise InputError("generation.top_p", f"must be in (0, 1], got {self.top_p!r}")
        if self.batch_size < 1:
            raise InputError("generation.batch_size", f"must be >= 1, got {self.batch_size!r}")
        if self.matmul_path not in PATHS:
            raise InputError("generation.matmul_path", f"must be one of {', '.join(PATHS)}, got {self.matmul_path!r}")


def chat_prompt_ids(
    tokenizer: Any, messages: Sequence[dict[str, str]], system_prompt: str | None = None
) -> list[int]:
    """Token ids of the chat template applied to `messages`, ending with the assistant header.

    The same function sdpo scores student contexts with, so a generated response is scored
    after exactly the prompt tokens it was generated from.
    """
    return prompt_ids(tokenizer, with_system_prompt(messages, system_prompt))


def resolve_stop_ids(
    tokenizer: Any, config: GenerationConfig, model_eos: int | Sequence[int] | None = None
) -> frozenset[int]:
    """The token ids that end a reply under `config` (see `GenerationConfig.stop_token_ids`);
    `model_eos` is the model's generation_config.eos_token_id."""
    vocab = tokenizer.get_vocab()
    if config.stop_token_ids is not None:
        ids = set(config.stop_token_ids)
    else:
        ids = set()
        if tokenizer.eos_token_id is not None:
            ids.add(tokenizer.eos_token_id)
        if model_eos is not None:
            ids.update(model_eos if isinstance(model_eos, (list, tuple)) else [model_eos])
        if END_OF_TURN in vocab:
            ids.add(vocab[END_OF_TURN])
    for text in config.stop_strings:
        if text not in vocab:
            raise InputError(
                "generation.stop_strings",
                f"{text!r} is not a single token of the tokenizer",
                "give special tokens such as '<|im_end|>' or use stop_token_ids",
            )
        ids.add(vocab[text])
    return frozenset(ids)


def next_tokens(logits: Any, greedy: Any, uniforms: Any, temperature: float, top_p: float) -> Any:
    """One token per row: argmax where `greedy`, else inverse-CDF sampling at `uniforms`.

    logits (B, V); greedy (B,) bool; uniforms (B,) in [0, 1). Sampling by inverse CDF with a
    uniform drawn per request (instead of torch.multinomial on a shared generator) makes a
    request's tokens a function of its own seed only.
    """
    import torch

    argmax = logits.argmax(dim=-1)
    if temperature == 0 or bool(greedy.all()):
        return argmax
    probs = torch.softmax(logits.double() / temperature, dim=-1)
    order = None
    if top_p < 1:
        probs, order = probs.sort(dim=-1, descending=True)
        # Keep a token while the mass ranked above it is below top_p (the top token always).
        probs = probs * ((probs.cumsum(dim=-1) - probs) < top_p)
    cdf = probs.cumsum(dim=-1)
    target = uniforms.double().unsqueeze(-1) * cdf[:, -1:]
    index = torch.searchsorted(cdf, target, right=True).clamp_(max=probs.shape[-1] - 1)
    sampled = index.squeeze(-1) if order is None else order.gather(-1, index).squeeze(-1)
    return torch.where(greedy, argmax, sampled)


def request_uniforms(seed: int, steps: int) -> Any:
    """The sampling noise of one request: `steps` uniforms from its own CPU generator.

    Drawn on CPU so a seed gives the same noise on every device."""
    import torch

    return torch.rand(steps, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)


def cache_keyword(model: Any) -> str:
    """The forward() argument carrying the KV cache: `cache` in recent transformers (5.2x),
    `past_key_values` before; the output attribute has the same name."""
    base = model.get_base_model() if hasattr(model, "get_base_model") else model  # peft
    return "cache" if "cache" in inspect.signature(base.forward).parameters else "past_key_values"


def length_sorted_batches(lengths: Sequence[int], batch_size: int) -> list[list[int]]:
    """Request indices grouped into batches of similar prompt length (less padding)."""
    order = sorted(range(len(lengths)), key=lambda i: lengths[i])
    return [order[i : i + batch_size] for i in range(0, len(order), batch_size)]


class HFBackend:
    """Generates with a transformers causal LM (optionally peft-wrapped) on its own device.

    Generation always reads the model's current weights and active adapter, runs in eval mode
    under no_grad, and restores every module's training flag afterwards. With `adapters` (a
    population's `sdpo.multi_lora.StackedLoRA` on `model`), each row uses the slot its request's
    `adapter_slot` names, so one batch serves many members.
    """

    def __init__(self, model: Any, tokenizer: Any, config: GenerationConfig | None = None,
                 adapters: Any = None) -> None:
        self.model = model
        self.tokenizer = tokenizer
        self.config = config or GenerationConfig()
        self.adapters = adapters
        model_eos = getattr(getattr(model, "generation_config", None), "eos_token_id", None)
        self.stop_ids = resolve_stop_ids(tokenizer, self.config, model_eos)
        pad = tokenizer.pad_token_id
        self.pad_id = pad if pad is not None else min(self.stop_ids, default=0)

    @classmethod
    def preflight(cls) -> None:
        return None  # torch and transformers are core dependencies

    @classmethod
    def from_config(cls, context: BackendContext) -> "HFBackend":
        """Generate with the learner's own model object, so every update is seen at once."""
        return cls(context.policy, context.tokenizer, context.generation)

    def prompt_ids(self, request: GenerationRequest) -> list[int]:
        """The prompt tokens `request` is continued from (chat template + system prompt)."""
        return chat_prompt_ids(self.tokenizer, request.messages, self.config.system_prompt)

    def generate(self, requests: Sequence[GenerationRequest]) -> list[Generation]:
        import torch

        prompts = [self.prompt_ids(r) for r in requests]
        results: dict[int, Generation] = {}
        modes = [(module, module.training) for module in self.model.modules()]
        self.model.eval()
        try:
            with torch.no_grad(), merged_lora(self.model):
                for batch in length_sorted_batches([len(p) for p in prompts], self.config.batch_size):
                    path = self.config.matmul_path if len(batch) >= BF16_DECODE_MIN_BATCH else "fp32"
                    with bf16_weight_shadows(self.model, path):
                        outputs = self._generate_batch([prompts[i] for i in batch], [requests[i] for i in batch])
                    for i, output in zip(batch, outputs):
                        results[i] = output
        finally:
            for module, training in modes:
                module.training = training
        return [results[i] for i in range(len(requests))]

    def _rows(self, requests: Sequence[GenerationRequest]) -> Any:
        """Each row's adapter slot for the forwards of one batch (no stacked adapters: none)."""
        if self.adapters is None:
            return contextlib.nullcontext()
        return self.adapters.rows([-1 if r.adapter_slot is None else r.adapter_slot for r in requests])

    def _generate_batch(
        self, prompts: list[list[int]], requests: list[GenerationRequest]
    ) -> list[Generation]:
        import torch

        config = self.config
        device = next(self.model.parameters()).device
        width = max(len(p) for p in prompts)
        input_ids = torch.full((len(prompts), width), self.pad_id, dtype=torch.long)
        attention = torch.zeros((len(prompts), width), dtype=torch.long)
        for row, prompt in enumerate(prompts):  # left padding: every prompt ends at the last column
            input_ids[row, width - len(prompt) :] = torch.tensor(prompt)
            attention[row, width - len(prompt) :] = 1
        positions = (attention.cumsum(-1) - 1).clamp_(min=0)
        greedy = torch.tensor([r.greedy or config.temperature == 0 for r in requests], device=device)
        # Each request's noise for every step, drawn up front on CPU from its own seed.
        uniforms = torch.stack(
            [request_uniforms(r.seed, config.max_new_tokens) for r in requests]
        ).to(device)

        input_ids, attention, positions = input_ids.to(device), attention.to(device), positions.to(device)
        with contextlib.ExitStack() as rows:
            rows.enter_context(self._rows(requests))
            return self._decode(input_ids, attention, positions, greedy, uniforms, requests, rows)

    def _decode(self, input_ids: Any, attention: Any, positions: Any, greedy: Any, uniforms: Any,
                requests: list[GenerationRequest], rows: contextlib.ExitStack) -> list[Generation]:
        """Prefill, then one token per live row per step; `rows` holds the adapter slots of
        the live rows and is renewed whenever finished rows are dropped."""
        import torch

        config = self.config
        device = input_ids.device
        out = self.model(
            input_ids=input_ids,
            attention_mask=attention,
            position_ids=positions,
            use_cache=True,
            logits_to_keep=1,
        )
        cache_key = cache_keyword(self.model)
        cache = getattr(out, cache_key)  # filled in place by every later forward
        next_position = positions[:, -1:] + 1
        live = list(range(len(requests)))  # original row of each row still decoding
        tokens_out: list[list[int]] = [[] for _ in requests]
        finish = ["length"] * len(requests)
        for step in range(config.max_new_tokens):
            chosen = next_tokens(
                out.logits[:, -1, :], greedy[live], uniforms[live, step], config.temperature, config.top_p
            )
            keep = []
            for k, (row, token) in enumerate(zip(live, chosen.tolist())):
                if token in self.stop_ids:
                    finish[row] = "stop"
                else:
                    tokens_out[row].append(token)
                    keep.append(k)
            if not keep or step == config.max_new_tokens - 1:
                break
            if len(keep) < len(live):
                # Drop finished rows so the remaining decode steps cost only the live rows.
                index = torch.tensor(keep, device=device)
                cache.batch_select_indices(index)
                chosen, attention, next_position = chosen[index], attention[index], next_position[index]
                live = [live[k] for k in keep]
                rows.close()
                rows.enter_context(self._rows([requests[row] for row in live]))
            attention = torch.cat([attention, attention.new_ones((len(live), 1))], dim=-1)
            out = self.model(
                input_ids=chosen.unsqueeze(-1),
                attention_mask=attention,
                position_ids=next_position,
                use_cache=True,
                **{cache_key: cache},
            )
            next_position = next_position + 1
        return [
            Generation(
                text=self.tokenizer.decode(ids, skip_special_tokens=True),
                token_ids=tuple(ids),
                finish_reason=reason,
            )
            for ids, reason in zip(tokens_out, finish)
        ]
