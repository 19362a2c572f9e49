"""Issue 10's table: simbench against its named peers (TRL's SDPO step, llama.cpp decoding) and
against the machine's own limits (matmul peak per precision path, memory bandwidth).

Everything runs in one process, arms alternated and their order swapped every repeat, wall
and process CPU seconds side by side. From the repository root, on a quiet machine:

    pip install -e ".[bench]"                      # TRL (+ datasets); llama-cpp-python
    python benchmarks/peers.py                     # ~6 min; writes benchmarks/PEERS.md
    python benchmarks/peers.py --episode           # + the main job on both paths (~8 min more)
"""

from __future__ import annotations

import argparse
import json
import shlex
import statistics
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import Any, Callable

HERE = Path(__file__).resolve().parent
for entry in (str(HERE.parent), str(HERE)):
    if entry not in sys.path:
        sys.path.insert(0, entry)

PROMPT = "Explain how photosynthesis works."
LOSS_TOLERANCE = 1e-5  # relative, simbench fp32 vs TRL fp32: the same loss on the same batch


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def timed(action: Callable[[], Any]) -> tuple[Any, float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    out = action()
    return out, time.perf_counter() - wall, time.process_time() - cpu


def summary(pairs: list[tuple[float, float]]) -> dict[str, float]:
    walls, cpus = [w for w, _ in pairs], [c for _, c in pairs]
    return {"median": statistics.median(walls), "low": min(walls), "high": max(walls),
            "cpu": statistics.median(cpus), "n": len(walls)}


def interleaved(arms: dict[str, Callable[[], Any]], repeats: int) -> dict[str, dict[str, float]]:
    """Each arm once per repeat after one warm-up each, the order reversed every other repeat."""
    names = list(arms)
    for name in names:
        arms[name]()
    times: dict[str, list[tuple[float, float]]] = {name: [] for name in names}
    for repeat in range(repeats):
        for name in names if repeat % 2 == 0 else names[::-1]:
            _, wall, cpu = timed(arms[name])
            times[name].append((wall, cpu))
    return {name: summary(values) for name, values in times.items()}


def matmul_paths(size: int, repeats: int) -> dict[str, float]:
    """GFLOP/s of a (size x size) matmul on each precision path, interleaved (medians)."""
    import torch

    from sdpo.precision import bf16_matmuls

    gen = torch.Generator().manual_seed(0)
    a, b = torch.randn(size, size, generator=gen), torch.randn(size, size, generator=gen)
    a16, b16 = a.to(torch.bfloat16), b.to(torch.bfloat16)

    def fp32_to_bf16() -> Any:
        with bf16_matmuls("bf16"):
            return a @ b

    arms = {"fp32 (MKL)": lambda: a @ b, "fp32 -> bf16 (oneDNN)": fp32_to_bf16, "bf16 (oneDNN)": lambda: a16 @ b16}
    return {name: 2.0 * size**3 / t["median"] / 1e9 for name, t in interleaved(arms, repeats).items()}


def memory_bandwidth(repeats: int, megabytes: int = 512) -> float:
    """GB/s of a large fp32 copy (read + write counted), median of `repeats`."""
    import torch

    src = torch.ones(megabytes * 2**20 // 4)
    dst = torch.empty_like(src)
    times = interleaved({"copy": lambda: dst.copy_(src)}, repeats)["copy"]
    return 2 * src.numel() * 4 / times["median"] / 1e9


def update_arms(samples: list[Any], repeats: int, lr: float = 5e-4) -> dict[str, Any]:
    """simbench's step on both paths vs TRL's on both, same batch and starting weights."""
    from bench_update import _lora_restore, _lora_snapshot
    from sdpo.config import SDPOConfig
    from sdpo.models import load_policy
    from sdpo.precision import bf16_matmuls
    from sdpo.updater import SDPOUpdater
    from trl_peer import TRLStep

    variants = {"fp32": dict(matmul_precision="fp32"), "bf16": dict(matmul_precision="bf16"),
                "bf16, KL every 8": dict(matmul_precision="bf16", kl_every=8)}
    ours = {name: SDPOUpdater(*load_policy("smollm2-135m"), SDPOConfig(lr=lr, **settings))
            for name, settings in variants.items()}
    model, tokenizer = load_policy("smollm2-135m")
    peer = TRLStep(model, tokenizer, samples, lr=lr, generations=2)
    starts = {path: _lora_snapshot(u.model) for path, u in ours.items()}
    peer_start = peer.lora_state()
    first: dict[str, float] = {}

    def ours_step(path: str) -> Callable[[], Any]:
        def step() -> Any:
            updater = ours[path]
            updater.steps = 1  # every step but the warm-up skips the KL where kl_every > 1
            record = updater.step(samples)
            first.setdefault(f"simbench {path}", record.loss)
            _lora_restore(updater.model, starts[path])
            updater.optimizer.state.clear()
        return step

    def peer_step(path: str) -> Callable[[], Any]:
        def step() -> Any:
            with bf16_matmuls(path):
                loss = peer.step()
            first.setdefault(f"TRL {path}", loss)
            peer.restore(peer_start)
        return step

    arms = {**{f"simbench {name}": ours_step(name) for name in ours},
            "TRL fp32": peer_step("fp32"), "TRL bf16 (same oneDNN flag)": peer_step("bf16")}
    timings = interleaved(arms, repeats)
    return {"timings": timings, "losses": first, "quality": advantage_gap(ours["fp32"], ours["bf16"], samples)}


def advantage_gap(exact: Any, fast: Any, samples: list[Any]) -> dict[str, float]:
    """Per-token advantages of the bf16 path against fp32's on the same weights."""
    from sdpo.precision import bf16_matmuls
    from sdpo.scoring import hindsight_token_scores

    def scores(updater: Any) -> list[float]:
        with bf16_matmuls(updater.matmul_path):
            rows = hindsight_token_scores(updater.model, updater.tokenizer, samples)
        return [a for row in rows for a in row.advantages]

    a, b = scores(exact), scores(fast)
    gaps = [abs(x - y) for x, y in zip(a, b)]
    return {"mean_abs_advantage": statistics.mean(abs(x) for x in a), "mean_gap": statistics.mean(gaps),
            "max_gap": max(gaps), "tokens": len(gaps)}


def decode_arms(batches: tuple[int, ...], new_tokens: int, repeats: int) -> dict[str, Any]:
    """Tokens/s of the hf backend per batch size and path (exactly `new_tokens` per request)."""
    from sdpo.adapters import attach_lora
    from sdpo.config import SDPOConfig
    from sdpo.models import gguf_source, load_policy
    from simbench.backends.base import GenerationRequest
    from simbench.backends.hf import GenerationConfig, HFBackend
    from simbench.prompts import load_prompts

    llama_backend = _llama_backend()
    model, tokenizer = load_policy("smollm2-135m")
    model = attach_lora(model, SDPOConfig())  # as in a run: LoRA merged for every generate call
    trained_lora(model)  # B != 0, so the llama.cpp arm serves (and pays for) a real adapter
    prompts = [p.text for p in load_prompts("builtin:train")]
    out: dict[str, Any] = {}
    for batch in batches:
        requests = [GenerationRequest(messages=({"role": "user", "content": prompts[i]},), seed=i) for i in range(batch)]
        arms = {}
        for path in ("fp32", "bf16"):
            config = GenerationConfig(max_new_tokens=new_tokens, stop_token_ids=(), batch_size=batch, matmul_path=path)
            arms[f"{path} batch {batch}"] = (lambda b: lambda: b.generate(requests))(HFBackend(model, tokenizer, config))
        if llama_backend is not None:
            config = GenerationConfig(max_new_tokens=new_tokens, stop_token_ids=(), batch_size=batch)
            backend = llama_backend(gguf_source("smollm2-135m"), model, tokenizer, config)
            arms[f"llama-cpp backend batch {batch}"] = (lambda b: lambda: b.generate(requests))(backend)
        for name, t in interleaved(arms, repeats).items():
            out[name] = {**t, "tokens_per_second": batch * new_tokens / t["median"]}
    return out


def trained_lora(model: Any, std: float = 0.01) -> None:
    """Give a fresh adapter's B factors seeded values (a trained adapter's magnitude)."""
    import torch

    generator = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for name, param in model.named_parameters():
            if "lora_B" in name:
                param.copy_(torch.randn(param.shape, generator=generator) * std)


def _llama_backend() -> Any:
    try:
        import llama_cpp  # noqa: F401
    except ImportError:
        return None
    from simbench.backends.llamacpp import LlamaCppBackend

    return LlamaCppBackend


def llama_cpp_decode(new_tokens: int, repeats: int, threads: int) -> dict[str, Any] | None:
    """Tokens/s of llama.cpp on the shipped GGUF (Q4_1) at batch 1, the practical CPU limit."""
    try:
        from llama_cpp import Llama
    except ImportError:
        return None
    from sdpo.models import KNOWN_MODELS, _gguf_path

    llm = Llama(model_path=str(_gguf_path("smollm2-135m", KNOWN_MODELS["smollm2-135m"])), n_ctx=512,
                n_threads=threads, verbose=False, seed=0)
    chat = [{"role": "user", "content": PROMPT}]

    def one() -> Any:
        return llm.create_chat_completion(chat, max_tokens=new_tokens, temperature=0.7, seed=0)

    reply = one()
    count = reply["usage"]["completion_tokens"]
    t = interleaved({"llama.cpp batch 1": one}, repeats)["llama.cpp batch 1"]
    return {**t, "tokens": count, "tokens_per_second": count / t["median"]}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=4, help="timed repeats per arm after one warm-up (default 4)")
    parser.add_argument("--threads", type=int, default=2, help="torch and llama.cpp threads (default 2)")
    parser.add_argument("--episode", action="store_true",
                        help="also time the main job on fp32 and on bf16 with the KL every 8 steps")
    parser.add_argument("--output", type=Path, default=HERE / "PEERS.md")
    args = parser.parse_args(argv)
    import torch

    from bench_episode import main_job
    from bench_report import machine
    from bench_update import FOLLOW_UPS, synthetic_samples
    from peers_report import render
    from sdpo.models import load_tokenizer
    from simbench.runner.provenance import cpu_flags
    from trl_peer import available

    if not available():
        parser.error('TRL is not installed: pip install -e ".[bench]"')
    torch.set_num_threads(args.threads)
    started = time.perf_counter()
    results: dict[str, Any] = {"machine": machine(), "flags": cpu_flags(), "repeats": args.repeats}
    results["command"] = "python benchmarks/peers.py" + "".join(f" {shlex.quote(a)}" for a in (argv or sys.argv[1:]))
    log("matmul paths"); results["matmul"] = matmul_paths(2048, max(args.repeats, 5))
    log("memory bandwidth"); results["bandwidth_gbs"] = memory_bandwidth(max(args.repeats, 5))
    tokenizer = load_tokenizer("smollm2-135m")
    # One prompt and follow-up for all 4 samples (2 TRL groups of 2): TRL left-pads without
    # position ids, so only equal lengths let the two losses agree (trl_peer.py).
    samples = [replace(s, follow_up=FOLLOW_UPS[0]) for s in synthetic_samples(tokenizer, [PROMPT], 4, 180)]
    log("update step: simbench vs TRL"); results["update"] = update_arms(samples, args.repeats)
    losses = results["update"]["losses"]
    if abs(losses["simbench fp32"] - losses["TRL fp32"]) > LOSS_TOLERANCE * abs(losses["TRL fp32"]):
        raise AssertionError(f"simbench and TRL losses differ: {losses}: the arms no longer train the same thing")
    log("decode"); results["decode"] = decode_arms((1, 8, 16), 64, args.repeats)
    log("llama.cpp"); results["llama_cpp"] = llama_cpp_decode(64, args.repeats, args.threads)
    if args.episode:
        log("main job: fp32, then bf16 with the KL every 8 steps")
        results["episode"] = {"fp32": main_job("fp32"), "bf16, KL every 8": main_job("bf16", kl_every=8)}
        if _llama_backend() is not None:
            log("main job on --backend llama-cpp: fp32, then bf16 with the KL every 8 steps")
            results["episode"].update({
                "llama-cpp backend, fp32": main_job("fp32", backend="llama-cpp"),
                "llama-cpp backend, bf16, KL every 8": main_job("bf16", backend="llama-cpp", kl_every=8)})
    results["wall_seconds"] = time.perf_counter() - started
    args.output.write_text(render(results))
    (args.output.with_suffix(".json")).write_text(json.dumps(results, indent=2, default=str) + "\n")
    log(f"wrote {args.output} ({results['wall_seconds']:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
