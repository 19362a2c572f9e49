"""`StackedLoRA`: many LoRA adapters ("slots") beside one frozen base model, one per batch row.

Per target Linear the adapters live as stacked tensors A [U, r, d_in] and B [U, d_out, r]; a
forward inside `rows(slots)` adds, to row i's output, x_i @ A[s_i].T @ B[s_i].T * scale (a
gather and two batched matmuls), and nothing for rows with slot -1. This is the
heterogeneous batching of S-LoRA/Punica: the base weights are read once for every member of
a population, while each member's result depends on its own slot only.
"""

from __future__ import annotations

import threading
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator, Sequence

import torch

from sdpo.adapters import ADAPTER_WEIGHTS, linear_module_names
from sdpo.errors import CheckpointError, ConfigError

BASE = -1
"""The slot of a row that runs on the base weights only (frozen and in-context members)."""
_PREFIX = "base_model.model."  # peft's key prefix for a causal LM, as save_adapter writes it


class StackedLoRA:
    """U adapter slots injected into `model`'s target Linears (see module docstring).

    The base weights are frozen (as peft does); the module tree, the model's state dict and
    `generate` are unchanged because the adapters act through forward hooks. Outside a `rows`
    block the model is the base model. Stacked tensors take the base weights' device and
    dtype (float32 under a bf16/fp16 base, as peft keeps a single run's adapters).
    """

    def __init__(self, model: Any, config: Any, slots: int) -> None:
        if hasattr(model, "peft_config"):
            raise ValueError("StackedLoRA needs the plain model, not a peft-wrapped one")
        if float(config.lora_dropout) != 0.0:
            raise ConfigError("lora_dropout", f"bad value {config.lora_dropout!r}", "stacked adapters need 0")
        if isinstance(slots, bool) or not isinstance(slots, int) or slots < 1:
            raise ValueError(f"slots must be an integer >= 1, got {slots!r}")
        self.model = model
        self.config = config
        self.slots = slots
        self.rank = int(config.lora_r)
        self.scale = float(config.lora_alpha) / self.rank
        self.modules: dict[str, torch.nn.Linear] = {
            name: module
            for name, module in model.named_modules()
            if isinstance(module, torch.nn.Linear) and name.rsplit(".", 1)[-1] in config.target_modules
        }
        if not self.modules:
            raise ConfigError(
                "target_modules",
                f"{list(config.target_modules)} do not match the model",
                f"linear modules here: {', '.join(linear_module_names(model))}",
            )
        model.requires_grad_(False)
        self.lora_A: dict[str, torch.nn.Parameter] = {}
        self.lora_B: dict[str, torch.nn.Parameter] = {}
        # Per thread: a batched generate and a batched update may run at once in two threads.
        self._local = threading.local()
        for name, module in self.modules.items():
            device, dtype = module.weight.device, adapter_dtype(module.weight.dtype)
            shape_a = (slots, self.rank, module.in_features)
            shape_b = (slots, module.out_features, self.rank)
            self.lora_A[name] = torch.nn.Parameter(torch.zeros(shape_a, dtype=dtype, device=device))
            self.lora_B[name] = torch.nn.Parameter(torch.zeros(shape_b, dtype=dtype, device=device))
            module.register_forward_hook(self._hook(name))

    def parameters(self) -> list[torch.nn.Parameter]:
        """The stacked tensors, per target module in model order: A then B (as peft orders them)."""
        return [p for name in self.modules for p in (self.lora_A[name], self.lora_B[name])]

    @contextmanager
    def rows(self, slot_per_row: Sequence[int]) -> Iterator[None]:
        """Every forward inside (in this thread) uses row i's slot (-1: base weights only)."""
        slots = [int(s) for s in slot_per_row]
        bad = [s for s in slots if not BASE <= s < self.slots]
        if bad or not slots:
            raise ValueError(f"slots must lie in [-1, {self.slots}), got {bad or slots}")
        device = next(iter(self.lora_A.values())).device
        live = [row for row, slot in enumerate(slots) if slot != BASE]
        # Worked out once per block, not per layer and decode step (no device syncs there).
        plan = _Rows(
            count=len(slots),
            slots=torch.tensor([slots[row] for row in live], dtype=torch.long, device=device) if live else None,
            live=None if len(live) == len(slots) else torch.tensor(live, dtype=torch.long, device=device),
        )
        previous = getattr(self._local, "rows", None)
        self._local.rows = plan
        try:
            yield
        finally:
            self._local.rows = previous

    def init_slot(self, slot: int, config: Any) -> None:
        """Initialise `slot` exactly as `sdpo.adapters.attach_lora(model, config)` would.

        peft itself initialises a throwaway copy of the target modules (sharing the frozen
        base weights, so nothing large is allocated) under the same seed, so the slot gets the
        very tensors a single run starts from, whatever peft's initialisation scheme is.
        """
        self.check_slot(slot)
        self.check_config(config)
        from peft import LoraConfig, inject_adapter_in_model

        skeleton = torch.nn.Module()
        for name, module in self.modules.items():
            copy = torch.nn.Linear(module.in_features, module.out_features, bias=False, device="meta")
            copy.weight = module.weight
            _add_path(skeleton, name, copy)
        lora = LoraConfig(
            r=config.lora_r,
            lora_alpha=config.lora_alpha,
            lora_dropout=0.0,
            target_modules=list(config.target_modules),
            bias="none",
        )
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(config.seed)
            inject_adapter_in_model(lora, skeleton)
        with torch.no_grad():
            for name in self.modules:
                layer = skeleton.get_submodule(name)
                self.lora_A[name][slot].copy_(layer.lora_A["default"].weight)
                self.lora_B[name][slot].copy_(layer.lora_B["default"].weight)

    def slot_state(self, slot: int) -> dict[str, torch.Tensor]:
        """`slot`'s adapter as the peft state dict `save_adapter` writes (detached copies)."""
        self.check_slot(slot)
        state = {}
        for name in self.modules:
            state[f"{_PREFIX}{name}.lora_A.weight"] = self.lora_A[name][slot].detach().clone()
            state[f"{_PREFIX}{name}.lora_B.weight"] = self.lora_B[name][slot].detach().clone()
        return state

    def load_slot(self, slot: int, state: dict[str, torch.Tensor]) -> None:
        """Set `slot` from a peft state dict (as `slot_state` returns or `save_adapter` wrote)."""
        self.check_slot(slot)
        wanted = self.slot_state(slot)
        missing = sorted(set(wanted) - set(state))
        unexpected = sorted(set(state) - set(wanted))
        if missing or unexpected:
            raise CheckpointError(
                "adapter", f"does not fit these slots: missing {missing[:3]}, unexpected {unexpected[:3]}"
            )
        for key, value in state.items():
            if tuple(value.shape) != tuple(wanted[key].shape):
                need = tuple(wanted[key].shape)
                raise CheckpointError("adapter", f"{key} has shape {tuple(value.shape)}, need {need}")
        with torch.no_grad():
            for name in self.modules:
                self.lora_A[name][slot].copy_(state[f"{_PREFIX}{name}.lora_A.weight"])
                self.lora_B[name][slot].copy_(state[f"{_PREFIX}{name}.lora_B.weight"])

    def save_slot(self, slot: int, folder: str | Path) -> None:
        """Write `slot` as a peft adapter folder (the files `save_adapter` writes), for tools
        that load adapters from disk (vLLM, single-run checkpoints)."""
        from peft import LoraConfig
        from safetensors.torch import save_file

        target = Path(folder)
        target.mkdir(parents=True, exist_ok=True)
        state = {k: v.contiguous() for k, v in self.slot_state(slot).items()}
        save_file(state, str(target / ADAPTER_WEIGHTS), metadata={"format": "pt"})
        lora = LoraConfig(
            r=self.rank,
            lora_alpha=self.config.lora_alpha,
            lora_dropout=0.0,
            target_modules=list(self.config.target_modules),
            bias="none",
            task_type="CAUSAL_LM",
            base_model_name_or_path=getattr(getattr(self.model, "config", None), "name_or_path", None) or None,
        )
        lora.inference_mode = True
        lora.save_pretrained(str(target))

    def _hook(self, name: str) -> Any:
        def add_adapter(module: Any, inputs: tuple[Any, ...], output: torch.Tensor) -> torch.Tensor | None:
            plan = getattr(self._local, "rows", None)
            if plan is None:
                return None
            x = inputs[0]
            if x.shape[0] != plan.count:
                raise ValueError(f"{name}: batch of {x.shape[0]} rows but {plan.count} slots were given")
            if plan.slots is None:
                return None
            a, b = self.lora_A[name][plan.slots], self.lora_B[name][plan.slots]
            rows = x if plan.live is None else x[plan.live]
            flat = rows.reshape(rows.shape[0], -1, rows.shape[-1]).to(a.dtype)
            delta = torch.bmm(torch.bmm(flat, a.transpose(1, 2)), b.transpose(1, 2)) * self.scale
            delta = delta.reshape(*rows.shape[:-1], delta.shape[-1])
            # Add in the adapter's dtype, then cast back, as peft does for a bf16/fp16 base.
            wide = output.to(delta.dtype)
            return (wide + delta if plan.live is None else wide.index_add(0, plan.live, delta)).to(output.dtype)

        return add_adapter

    def check_slot(self, slot: int) -> None:
        """Raise ValueError unless `slot` is one of these slots."""
        if isinstance(slot, bool) or not isinstance(slot, int) or not 0 <= slot < self.slots:
            raise ValueError(f"slot must be an integer in [0, {self.slots}), got {slot!r}")

    def check_config(self, config: Any) -> None:
        """Raise ConfigError unless `config` has these slots' adapter shape (rank, alpha, modules)."""
        for key in ("lora_r", "lora_alpha", "target_modules"):
            mine, theirs = getattr(self.config, key), getattr(config, key)
            if key == "target_modules":
                mine, theirs = tuple(mine), tuple(theirs)
            if mine != theirs:
                raise ConfigError(key, f"bad value {theirs!r}", f"every member of these slots needs {key}={mine!r}")


@dataclass(frozen=True)
class _Rows:
    """The open `rows` block of one thread: batch size, the slots of the rows that have one
    (None: every row is a base row) and where those rows are (None: all of them)."""

    count: int
    slots: torch.Tensor | None
    live: torch.Tensor | None


def adapter_dtype(base: torch.dtype) -> torch.dtype:
    """The adapters' dtype beside base weights of dtype `base`: float32 under a half-precision
    base (peft's autocast_adapter_dtype, which single runs use), else the base's own."""
    return torch.float32 if base in (torch.float16, torch.bfloat16) else base


def _add_path(root: torch.nn.Module, dotted: str, leaf: torch.nn.Module) -> None:
    """Place `leaf` at `dotted` under `root`, creating empty parent modules on the way."""
    *parents, last = dotted.split(".")
    node = root
    for part in parents:
        if not hasattr(node, part):
            node.add_module(part, torch.nn.Module())
        node = getattr(node, part)
    node.add_module(last, leaf)
