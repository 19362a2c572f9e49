"""Model presets: a known base model plus a LoRA adapter shipped in this package.

A preset loads like any short name (`load_policy("smollm2-135m-fr")`): on first use the
adapter is merged into the base's fp32 weights and the result cached as a plain transformers
folder named after the adapter's content hash, so a retrained adapter never reuses a stale
merge. The merged model is an ordinary model: online LoRA updates, the frozen arm, the
in-context oracle and the unrelated-feedback control all start from it alike.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from dataclasses import dataclass
from pathlib import Path

from sdpo.cache import CACHE_MARKER, ensure_folder
from sdpo.errors import ModelNotFoundError

ADAPTERS_DIR = Path(__file__).parent / "preset_adapters"
ADAPTER_WEIGHTS = "adapter_model.safetensors"
RECIPE_FILE = "recipe.json"


@dataclass(frozen=True)
class AdapterPreset:
    """`base` (a known short name) with the adapter in `preset_adapters/<adapter>` merged in."""

    base: str
    adapter: str
    summary: str
    rebuild: str


KNOWN_PRESETS: dict[str, AdapterPreset] = {
    "smollm2-135m-fr": AdapterPreset(
        base="smollm2-135m",
        adapter="smollm2-135m-fr",
        summary="SmolLM2-135M-Instruct trained to read a follow-up placed in its context "
        "(optional: measured no-go, docs/preset.md)",
        rebuild="simbench train-preset --out sdpo/preset_adapters/smollm2-135m-fr",
    ),
}


def adapter_folder(name: str) -> Path:
    """The shipped adapter folder of preset `name`, or a one-line ModelNotFoundError."""
    preset = KNOWN_PRESETS[name]
    folder = ADAPTERS_DIR / preset.adapter
    if not (folder / ADAPTER_WEIGHTS).is_file():
        raise ModelNotFoundError(name, f"its adapter {folder / ADAPTER_WEIGHTS} is not installed", preset.rebuild)
    return folder


def adapter_digest(folder: Path) -> str:
    """First 12 hex digits of the sha256 of the adapter weights and config."""
    digest = hashlib.sha256()
    for filename in (ADAPTER_WEIGHTS, "adapter_config.json"):
        path = folder / filename
        if path.is_file():
            digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def ensure_merged(name: str, base_folder: Path, root: Path) -> Path:
    """The cached merged folder of preset `name` (made once from `base_folder` + its adapter)."""
    adapter = adapter_folder(name)
    return ensure_folder(f"{name}-{adapter_digest(adapter)}", root,
                         lambda scratch: merge_adapter(base_folder, adapter, scratch))


def merge_adapter(base_folder: Path, adapter: Path, out: Path) -> None:
    """Write base + adapter, merged in fp32, as a plain safetensors folder into `out`.

    peft's merge adds `B @ A * scale` to each adapted weight once, in fp32;
    tests/unit/sdpo/test_presets.py checks every merged weight equals that sum exactly.
    """
    import torch
    from peft import PeftModel
    from transformers import AutoModelForCausalLM, AutoTokenizer

    base = AutoModelForCausalLM.from_pretrained(str(base_folder), dtype=torch.float32, local_files_only=True)
    merged = PeftModel.from_pretrained(base, str(adapter)).merge_and_unload()
    merged.save_pretrained(str(out), safe_serialization=True)
    AutoTokenizer.from_pretrained(str(base_folder), local_files_only=True).save_pretrained(str(out))
    if (adapter / RECIPE_FILE).is_file():
        shutil.copyfile(adapter / RECIPE_FILE, out / f"preset-{RECIPE_FILE}")
    marker = {"base": str(base_folder), "adapter": str(adapter), "adapter_sha256": adapter_digest(adapter)}
    (out / CACHE_MARKER).write_text(json.dumps(marker, indent=2) + "\n")
