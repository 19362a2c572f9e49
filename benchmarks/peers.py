"""simbench against its named peers (TRL's SDPO step, llama.cpp decoding) and against the
machine's own limits (matmul peak per precision path, memory bandwidth), like for like.

Everything runs in one process, arms alternated and their order swapped every repeat, wall
and process CPU seconds side by side. TRL runs in fp32 and in its own best CPU configuration
(`bf16=True`, no gradient checkpointing); every simbench arm is timed as a run pays it: the
step counter is never reset, so `kl_every=N` is amortised over whole cycles of N steps.
Results are kept per machine (CPU model + flags) in PEERS.json; PEERS.md has one table set per
machine. From the repository root, on a quiet machine:

    pip install -e ".[bench]"                      # TRL (+ datasets); llama-cpp-python; the GGUF
    python benchmarks/peers.py                     # writes benchmarks/PEERS.md and PEERS.json
    python benchmarks/peers.py --episode           # + the main job, 3 alternated repeats per arm
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
    return {"median": statistics.median(walls), "mean": statistics.mean(walls), "low": min(walls),
            "high": max(walls), "cpu": statistics.median(cpus), "n": len(walls)}


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

    gen = torch.Generator().manual_seed(0)
    a, b = torch.randn(size, size, generator=gen), torch.randn(size, size, generator=gen)
    a16, b16 = a.to(torch.bfloat16), b.to(torch.bfloat16)
    arms = {"fp32 (MKL)": lambda: a @ b, "bf16 (oneDNN)": lambda: a16 @ b16}
    return {name: 2.0 * size**3 / t["median"] / 1e9 for name, t in interleaved(arms, repeats).items()}


def memory_bandwidth(repeats: int, megabytes: int = 512) -> float:
    """GB/s of a large fp32 copy (read + write counted), median of `repeats`."""
    import torch

    src = torch.ones(megabytes * 2**20 // 4)
    dst = torch.empty_like(src)
    times = interleaved({"copy": lambda: dst.copy_(src)}, repeats)["copy"]
    return 2 * src.numel() * 4 / times["median"] / 1e9


def update_repeats(repeats: int, kl_every: int) -> int:
    """Timed steps per arm: `repeats` rounded up to whole KL cycles, so the mean of the timed
    steps of a `kl_every` arm is its amortised cost (the untimed warm-up is step 0, a KL step)."""
    return kl_every * -(-repeats // kl_every)


def update_arms(samples: list[Any], repeats: int, kl_every: int = 8, lr: float = 5e-4) -> dict[str, Any]:
    """simbench's step on both paths vs TRL's fp32 and its `bf16=True`, same batch and starting
    weights; simbench's step counters run on as in a run (never reset)."""
    from bench_update import _lora_restore, _lora_snapshot
    from trl_peer import TRLStep

    from sdpo.config import SDPOConfig
    from sdpo.models import load_policy
    from sdpo.updater import SDPOUpdater

    variants = {"fp32": dict(matmul_precision="fp32"), "bf16": dict(matmul_precision="bf16"),
                f"bf16, KL every {kl_every}": dict(matmul_precision="bf16", kl_every=kl_every)}
    ours = {name: SDPOUpdater(*load_policy("smollm2-135m"), SDPOConfig(lr=lr, **settings))
            for name, settings in variants.items()}
    peers = {f"TRL {name}": TRLStep(*load_policy("smollm2-135m"), samples, lr=lr, generations=2, bf16=bf16)
             for name, bf16 in (("fp32", False), ("bf16=True", True))}
    starts = {path: _lora_snapshot(u.model) for path, u in ours.items()}
    peer_starts = {name: peer.lora_state() for name, peer in peers.items()}
    first: dict[str, float] = {}

    def ours_step(path: str) -> Callable[[], Any]:
        def step() -> Any:
            updater = ours[path]
            record = updater.step(samples)  # updater.steps runs on: the KL lands every kl_every steps
            first.setdefault(f"simbench {path}", record.loss)
            _lora_restore(updater.model, starts[path])
            updater.optimizer.state.clear()
        return step

    def peer_step(name: str) -> Callable[[], Any]:
        def step() -> Any:
            first.setdefault(name, peers[name].step())
            peers[name].restore(peer_starts[name])
        return step

    arms = {**{f"simbench {name}": ours_step(name) for name in ours}, **{name: peer_step(name) for name in peers}}
    timings = interleaved(arms, update_repeats(repeats, kl_every))
    return {"timings": timings, "losses": first, "kl_every": kl_every,
            "quality": advantage_gap(ours["fp32"], ours["bf16"], samples)}


def advantage_gap(exact: Any, fast: Any, samples: list[Any]) -> dict[str, float]:
    """Per-token advantages of the bf16 path against fp32's on the same weights."""
    from sdpo.precision import bf16_weight_shadows
    from sdpo.scoring import hindsight_token_scores

    def scores(updater: Any) -> list[float]:
        with bf16_weight_shadows(updater.model, updater.matmul_path):
            rows = hindsight_token_scores(updater.model, updater.tokenizer, samples)
        return [a for row in rows for a in row.advantages]

    a, b = scores(exact), scores(fast)
    gaps = [abs(x - y) for x, y in zip(a, b)]
    return {"mean_abs_advantage": statistics.mean(abs(x) for x in a), "mean_gap": statistics.mean(gaps),
            "max_gap": max(gaps), "tokens": len(gaps)}


def check_losses(losses: dict[str, float]) -> None:
    """The arms train the same thing (fp32 losses equal), and TRL's bf16 arm really ran in bf16."""
    if abs(losses["simbench fp32"] - losses["TRL fp32"]) > LOSS_TOLERANCE * abs(losses["TRL fp32"]):
        raise AssertionError(f"simbench and TRL losses differ: {losses}: the arms no longer train the same thing")
    if losses["TRL bf16=True"] == losses["TRL fp32"]:
        raise AssertionError(f"TRL's bf16=True loss equals its fp32 loss: {losses}: its bf16 path did not run")


def episode_arms(repeats: int, kl_every: int) -> dict[str, list[dict[str, Any]]]:
    """The main job per arm, `repeats` times, arms alternated and the order reversed every
    other repeat (no warm-up: each run loads its model as a user's run does)."""
    from bench_episode import main_job

    arms: dict[str, Callable[[], dict[str, Any]]] = {
        "fp32": lambda: main_job("fp32"),
        f"bf16, KL every {kl_every}": lambda: main_job("bf16", kl_every=kl_every)}
    if _llama_backend() is not None:
        arms["llama-cpp backend, fp32"] = lambda: main_job("fp32", backend="llama-cpp")
        arms[f"llama-cpp backend, bf16, KL every {kl_every}"] = lambda: main_job("bf16", backend="llama-cpp",
                                                                                 kl_every=kl_every)
    runs: dict[str, list[dict[str, Any]]] = {name: [] for name in arms}
    names = list(arms)
    for repeat in range(repeats):
        for name in names if repeat % 2 == 0 else names[::-1]:
            log(f"main job {name}, repeat {repeat + 1}/{repeats}")
            runs[name].append(arms[name]())
    return runs


def machine_label(results: dict[str, Any]) -> str:
    """The key a machine kind's results are kept under: CPU model and SIMD flags."""
    return f"{results['machine']['cpu']} ({results['flags']})"


def merged(previous: Path, label: str, results: dict[str, Any]) -> dict[str, Any]:
    """PEERS.json's machines with this run's replacing its own machine kind's, others kept."""
    machines = json.loads(previous.read_text()).get("machines", {}) if previous.is_file() else {}
    return {"machines": {**machines, label: results}}


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
            arms[f"{path} batch {batch}"] = (lambda b, r: lambda: b.generate(r))(HFBackend(model, tokenizer, config), requests)
        if llama_backend is not None:
            config = GenerationConfig(max_new_tokens=new_tokens, stop_token_ids=(), batch_size=batch)
            backend = llama_backend(gguf_source("smollm2-135m"), model, tokenizer, config)
            arms[f"llama-cpp backend batch {batch}"] = (lambda b, r: lambda: b.generate(r))(backend, requests)
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
    parser.add_argument("--repeats", type=int, default=4,
                        help="timed repeats per arm after one warm-up (default 4; update steps: whole KL cycles)")
    parser.add_argument("--threads", type=int, default=2, help="torch and llama.cpp threads (default 2)")
    parser.add_argument("--kl-every", type=int, default=8, help="the amortised bf16 arm's kl_every (default 8)")
    parser.add_argument("--tokens", type=int, default=180, help="response tokens per update sample (default 180)")
    parser.add_argument("--matmul-size", type=int, default=2048, help="matmul peak size (default 2048)")
    parser.add_argument("--decode-batches", type=int, nargs="+", default=[1, 8, 16], help="decode batch sizes")
    parser.add_argument("--episode", action="store_true",
                        help="also time the main job on fp32 and on bf16 with the KL every --kl-every steps")
    parser.add_argument("--episode-repeats", type=int, default=3, help="main-job runs per arm (default 3)")
    parser.add_argument("--output", type=Path, default=HERE / "PEERS.md")
    args = parser.parse_args(argv)
    import torch
    from bench_report import machine
    from bench_update import FOLLOW_UPS, synthetic_samples
    from peers_report import render
    from trl_peer import available

    from sdpo.models import load_tokenizer
    from simbench.runner.provenance import cpu_flags

    if not available():
        parser.error('TRL is not installed: pip install -e ".[bench]"')
    torch.set_num_threads(args.threads)
    started = time.perf_counter()
    results: dict[str, Any] = {"machine": machine(), "flags": cpu_flags(), "repeats": args.repeats}
    results["command"] = "python benchmarks/peers.py" + "".join(f" {shlex.quote(a)}" for a in (argv or sys.argv[1:]))
    results["matmul_size"] = args.matmul_size
    log("matmul paths"); results["matmul"] = matmul_paths(args.matmul_size, max(args.repeats, 5))
    log("memory bandwidth"); results["bandwidth_gbs"] = memory_bandwidth(max(args.repeats, 5))
    tokenizer = load_tokenizer("smollm2-135m")
    # One prompt and follow-up for all 4 samples (2 TRL groups of 2): TRL left-pads without
    # position ids, so only equal lengths let the two losses agree (trl_peer.py).
    samples = [replace(s, follow_up=FOLLOW_UPS[0]) for s in synthetic_samples(tokenizer, [PROMPT], 4, args.tokens)]
    log("update step: simbench vs TRL"); results["update"] = update_arms(samples, args.repeats, args.kl_every)
    results["update"]["tokens"] = args.tokens
    check_losses(results["update"]["losses"])
    log("decode"); results["decode"] = decode_arms(tuple(args.decode_batches), 64, args.repeats)
    log("llama.cpp"); results["llama_cpp"] = llama_cpp_decode(64, args.repeats, args.threads)
    if args.episode:
        results["episode"] = episode_arms(args.episode_repeats, args.kl_every)
    results["wall_seconds"] = time.perf_counter() - started
    data = merged(args.output.with_suffix(".json"), machine_label(results), results)
    args.output.write_text(render(data))
    args.output.with_suffix(".json").write_text(json.dumps(data, indent=2, default=str) + "\n")
    log(f"wrote {args.output} ({results['wall_seconds']:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
