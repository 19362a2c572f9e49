"""GPU throughput check: transformers generation at batch 1 vs 8, vLLM with a LoRA swap if installed,
and the SDPO update step (sdpo's two-pass step vs the three-pass reference of benchmarks/run.py).

Trained weights cannot travel to the GPU box and speed does not need them, so the model is a
randomly initialised SmolLM2-135M (its exact architecture) with a synthetic ChatML tokenizer.
It installs and downloads nothing. From the repository root:

    python benchmarks/gpu_check.py                        # CUDA, full size, ~1 min
    python benchmarks/gpu_check.py --device cpu --quick   # smoke check of the script itself

Prints three short markdown tables (generation, vLLM vs transformers, update step); without
vLLM or CUDA the vLLM parts print "skipped" with the reason and the script exits 0. The vLLM
part also checks that a new adapter changes greedy replies and the old one restores them, and
the run path's hand-off: the sdpo-token learner and the vLLM backend built by their
`from_config` hooks, replies changing after one update (a new adapter folder each time).
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable

# Runs from a bare checkout (the GPU box has no editable install of simbench).
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(1, str(Path(__file__).resolve().parent))  # reference_sdpo, next to this file

from simbench.backends.base import Generation, GenerationRequest  # noqa: E402
from simbench.backends.hf import GenerationConfig, HFBackend  # noqa: E402

# HuggingFaceTB/SmolLM2-135M-Instruct config.json (architecture fields only).
SMOLLM2_135M = dict(
    vocab_size=49152,
    hidden_size=576,
    intermediate_size=1536,
    num_hidden_layers=30,
    num_attention_heads=9,
    num_key_value_heads=3,
    head_dim=64,
    max_position_embeddings=8192,
    rms_norm_eps=1e-5,
    rope_theta=100000.0,
    tie_word_embeddings=True,
    bos_token_id=1,
    eos_token_id=2,
    pad_token_id=0,
)
ATTENTION = ["q_proj", "k_proj", "v_proj", "o_proj"]  # LoRA targets
SPECIAL = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]  # ids 0, 1, 2 as in SmolLM2
CHATML = (
    "{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)


def synthetic_tokenizer(vocab_size: int) -> Any:
    """A word-level ChatML tokenizer with `vocab_size` entries: SmolLM2's specials, roles, w<i>."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    words = SPECIAL + ["system", "user", "assistant"]
    words += [f"w{i}" for i in range(vocab_size - len(words))]
    core = Tokenizer(models.WordLevel({w: i for i, w in enumerate(words)}, unk_token="<|endoftext|>"))
    core.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    core.decoder = decoders.WordPiece(prefix="##")  # joins words with spaces
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=core,
        bos_token="<|im_start|>",
        eos_token="<|im_end|>",
        pad_token="<|endoftext|>",
        unk_token="<|endoftext|>",
        additional_special_tokens=SPECIAL,
    )
    tokenizer.chat_template = CHATML
    return tokenizer


def random_model(layers: int, device: str, dtype: str) -> Any:
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(0)
    config = LlamaConfig(**{**SMOLLM2_135M, "num_hidden_layers": layers})
    return LlamaForCausalLM(config).to(device=device, dtype=getattr(torch, dtype)).eval()


def chats(count: int, words: int, seed: int = 0) -> list[tuple[dict[str, str], ...]]:
    rng = random.Random(seed)
    return [
        ({"role": "user", "content": " ".join(f"w{rng.randrange(40_000)}" for _ in range(words))},)
        for _ in range(count)
    ]


def timed(
    generate: Callable[[list[GenerationRequest]], list[Generation]], requests: list[GenerationRequest]
) -> tuple[float, int, list[Generation]]:
    start = time.perf_counter()
    replies = generate(requests)
    return time.perf_counter() - start, sum(len(r.token_ids) for r in replies), replies


def figures(tokens: int, seconds: float) -> list[str]:
    return [str(tokens), f"{seconds:.2f}", f"{tokens / seconds:.1f}"]


def hf_rows(model, tokenizer, device, dtype, new_tokens, prompt_words) -> list[list[str]]:
    rows = []
    for batch in (1, 8):
        config = GenerationConfig(
            max_new_tokens=new_tokens, temperature=1.0, stop_token_ids=(), batch_size=batch
        )
        backend = HFBackend(model, tokenizer, config)
        requests = [GenerationRequest(messages=c, seed=i) for i, c in enumerate(chats(batch, prompt_words))]
        backend.generate(requests[:1])  # warm-up: CUDA context, kernels, allocator
        seconds, tokens, _ = timed(backend.generate, requests)
        rows.append(["hf", device, dtype, str(batch), *figures(tokens, seconds)])
    return rows


def vllm_rows(
    model, tokenizer, dtype, new_tokens, prompt_words, folder: Path
) -> tuple[list[list[str]], list[str]]:
    """Timing rows and failed checks for vLLM serving two LoRA adapters in turn."""
    import torch
    from peft import LoraConfig, get_peft_model

    from simbench.backends.vllm import VLLMBackend

    base = folder / "base"
    model.save_pretrained(base)
    tokenizer.save_pretrained(base)
    adapters = []
    for seed in (1, 2):
        lora = get_peft_model(model, LoraConfig(r=8, lora_alpha=16, target_modules=ATTENTION))
        torch.manual_seed(seed)
        with torch.no_grad():
            for name, param in lora.named_parameters():
                if "lora_B" in name:
                    param.normal_(0.0, 0.05)
        lora.save_pretrained(folder / f"adapter-{seed}")
        adapters.append(str(folder / f"adapter-{seed}"))
        model = lora.unload()  # the bare base model again for the next adapter

    current: list[str | None] = [adapters[0]]
    config = GenerationConfig(max_new_tokens=new_tokens, stop_token_ids=(), batch_size=8)
    engine = {"dtype": dtype, "gpu_memory_utilization": 0.5, "max_model_len": 2048, "seed": 0}
    backend = VLLMBackend(str(base), config, adapter_dir=lambda: current[0], max_lora_rank=8, engine=engine)
    requests = [
        GenerationRequest(messages=c, seed=i, greedy=True) for i, c in enumerate(chats(8, prompt_words))
    ]
    backend.generate(requests[:1])  # warm-up
    rows, replies = [], []
    for label, adapter in (("vllm+lora A", 0), ("vllm+lora B (swap)", 1), ("vllm+lora A (back)", 0)):
        current[0] = adapters[adapter]
        seconds, tokens, out = timed(backend.generate, requests)
        replies.append(out)
        rows.append([label, "cuda", dtype, "8", *figures(tokens, seconds)])
    failures = []
    if replies[1] == replies[0]:
        failures.append("swapping to adapter B did not change any greedy reply")
    if replies[2] != replies[0]:
        failures.append("swapping back to adapter A did not restore its greedy replies")
    return rows, failures


def vllm_run_path_failures(model, tokenizer, folder: Path) -> list[str]:
    """The adapter hand-off of `simbench run --backend vllm`: the sdpo-token learner and the
    backend built by their `from_config` hooks, one SDPO update (large lr) in between; greedy
    replies must change after it, and the adapter folder vLLM loads must be a new one."""
    from simbench.backends import BACKENDS
    from simbench.backends.base import BackendContext
    from simbench.learners import LEARNERS
    from simbench.learners.base import LearnerContext, Turn

    base = folder / "run-base"
    model.save_pretrained(base)
    tokenizer.save_pretrained(base)
    learner = LEARNERS.get("sdpo-token").from_config(
        LearnerContext(model=model, tokenizer=tokenizer, seed=0, options={"lr": 0.05, "lora_r": 8}))
    context = BackendContext(model_name=str(base), device="cuda", policy=learner.policy, tokenizer=tokenizer,
                             generation=GenerationConfig(max_new_tokens=16, stop_token_ids=()),
                             adapter_dir=learner.adapter_dir)
    # a second engine on the GPU after vllm_rows' one: a smaller share of its memory
    engine = {"max_model_len": 2048, "seed": 0, "gpu_memory_utilization": 0.3}
    backend = BACKENDS.get("vllm").from_config(context, engine=engine)
    requests = [GenerationRequest(messages=c, seed=i, greedy=True) for i, c in enumerate(chats(4, 20))]
    before, folder_before = backend.generate(requests), learner.adapter_dir()
    turns = [Turn(t=i, turn=0, messages=r.messages, response_text=g.text, response_ids=g.token_ids,
                  follow_up="w1 w2 w3 w4", active=()) for i, (r, g) in enumerate(zip(requests, before))]
    learner.observe(turns)
    after, folder_after = backend.generate(requests), learner.adapter_dir()
    failures = []
    if folder_after == folder_before:
        failures.append("run path: the adapter folder did not change after an update")
    if [g.token_ids for g in after] == [g.token_ids for g in before]:
        failures.append("run path: greedy replies did not change after an SDPO update (lr 0.05)")
    return failures


def _synchronise(device: str) -> None:
    import torch

    if device.startswith("cuda"):
        torch.cuda.synchronize()


def update_rows(layers, device, dtype, tokenizer, batch, response_tokens, prompt_words, repeats=5) -> list[list[str]]:
    """Median seconds of sdpo's update step and the three-pass reference on a fresh random model
    with LoRA (q, k, v, o; r=8), one warm-up each, alternating; CUDA is synchronised around steps."""
    import statistics

    import torch
    from reference_sdpo import ReferenceUpdater

    from sdpo.hindsight import HindsightSample
    from sdpo.updater import SDPOUpdater

    model = random_model(layers, device, dtype)
    rng = random.Random(1)
    samples = [
        HindsightSample(
            messages=list(chat),
            response_ids=[rng.randrange(10, SMOLLM2_135M["vocab_size"]) for _ in range(response_tokens)],
            follow_up=" ".join(f"w{rng.randrange(40_000)}" for _ in range(12)),
        )
        for chat in chats(batch, prompt_words, seed=2)
    ]
    sdpo = SDPOUpdater(model, tokenizer)
    reference = ReferenceUpdater(sdpo.model, tokenizer)
    timings: dict[str, list[float]] = {"sdpo": [], "reference": []}
    for index in range(repeats + 1):  # index 0 warms up both
        for name, step in (("sdpo", sdpo.step), ("reference", reference.step)):
            _synchronise(device)
            start = time.perf_counter()
            step(samples)
            _synchronise(device)
            if index:
                timings[name].append(time.perf_counter() - start)
    medians = {name: statistics.median(values) for name, values in timings.items()}
    tokens = batch * response_tokens
    rows = [
        [name, device, dtype, str(batch), str(tokens), f"{medians[name]:.3f}", f"{tokens / medians[name]:.0f}"]
        for name in ("sdpo", "reference")
    ]
    rows.append(["speed-up", "", "", "", "", f"{medians['reference'] / medians['sdpo']:.2f}x", ""])
    del model, sdpo, reference
    if device.startswith("cuda"):
        torch.cuda.empty_cache()
    return rows


def comparison_rows(rows: list[list[str]], notes: list[str]) -> list[list[str]]:
    """vLLM vs transformers at batch 8 (tokens/s), or the reason the vLLM side was skipped."""
    hf = next((float(r[-1]) for r in rows if r[0] == "hf" and r[3] == "8"), None)
    vllm = next((float(r[-1]) for r in rows if r[0] == "vllm+lora A"), None)
    if hf is None:
        return [["transformers", "8", "skipped", "", ""]]
    if vllm is None:
        reason = next((n for n in notes if n.startswith("vllm")), "vllm: skipped")
        return [["transformers", "8", f"{hf:.1f}", "1.00x", ""], ["vllm+lora", "8", "skipped", "", reason]]
    return [["transformers", "8", f"{hf:.1f}", "1.00x", ""], ["vllm+lora", "8", f"{vllm:.1f}", f"{vllm / hf:.2f}x", ""]]


def print_table(header: list[str], rows: list[list[str]]) -> None:
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for row in rows:
        print("| " + " | ".join(row) + " |")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cuda", help="cuda (default) or cpu")
    parser.add_argument("--quick", action="store_true", help="2 layers, 8 new tokens: a smoke check")
    parser.add_argument("--dtype", help="float32 or bfloat16 (default: bfloat16 on cuda, float32 on cpu)")
    args = parser.parse_args(argv)

    import torch

    if args.device.startswith("cuda") and not torch.cuda.is_available():
        print("CUDA is not available: run with --device cpu", file=sys.stderr)
        return 2
    dtype = args.dtype or ("bfloat16" if args.device.startswith("cuda") else "float32")
    full_size = (SMOLLM2_135M["num_hidden_layers"], 128, 100)
    layers, new_tokens, prompt_words = (2, 8, 20) if args.quick else full_size
    tokenizer = synthetic_tokenizer(SMOLLM2_135M["vocab_size"])
    model = random_model(layers, args.device, dtype)
    rows = hf_rows(model, tokenizer, args.device, dtype, new_tokens, prompt_words)

    failures: list[str] = []
    notes = []
    try:
        import vllm  # noqa: F401
    except ImportError:
        notes.append("vllm not installed: skipped")
    else:
        if not args.device.startswith("cuda"):
            notes.append("vllm needs --device cuda: skipped")
        else:
            with tempfile.TemporaryDirectory() as folder:
                extra, failures = vllm_rows(
                    model.cpu(), tokenizer, dtype, new_tokens, prompt_words, Path(folder)
                )
                failures += vllm_run_path_failures(random_model(layers, args.device, dtype), tokenizer,
                                                   Path(folder))
            rows += extra

    batch, response_tokens = (2, 8) if args.quick else (8, new_tokens)
    updates = update_rows(layers, args.device, dtype, tokenizer, batch, response_tokens, prompt_words)

    name = torch.cuda.get_device_name() if args.device.startswith("cuda") else "cpu"
    print(f"SmolLM2-135M architecture, random weights, {layers} layers, {name}, torch {torch.__version__}\n")
    print_table(["engine", "device", "dtype", "batch", "new tokens", "seconds", "tokens/s"], rows)
    print()
    print_table(["generation", "batch", "tokens/s", "vs transformers", "note"], comparison_rows(rows, notes))
    print()
    print_table(
        ["update step (LoRA r=8)", "device", "dtype", "batch", "response tokens", "median s", "tokens/s"], updates
    )
    for line in notes + [f"FAILED: {f}" for f in failures]:
        print(line)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
