"""The markdown of benchmarks/PEERS.md from `peers.py`'s results (pure formatting)."""

from __future__ import annotations

from typing import Any

MAIN_JOB_BASELINE_S = 275.0  # the "today": the main job's run time on the 2026-11-27 machine
UPDATE_TARGET = 1.5
EPISODE_TARGET = 3.0


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    return ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)] + ["| " + " | ".join(r) + " |" for r in rows]


def _span(t: dict[str, float]) -> str:
    return f"{t['median']:.2f} [{t['low']:.2f}, {t['high']:.2f}]"


def update_section(results: dict[str, Any]) -> list[str]:
    update, peak = results["update"], results["matmul"]
    timings, losses = update["timings"], update["losses"]
    trl = timings["TRL fp32"]["median"]
    rows = [[name, _span(t), f"{t['cpu']:.2f}", f"{trl / t['median']:.2f}x", f"{losses[name.split(' (')[0]]:.6f}"]
            for name, t in timings.items()]
    quality = update["quality"]
    best_name = min((n for n in timings if n.startswith("simbench")), key=lambda n: timings[n]["median"])
    ratio = trl / timings[best_name]["median"]
    verdict = "**met**" if ratio >= UPDATE_TARGET else "**not met**"
    return [
        "## Update step: simbench vs TRL's SDPOTrainer",
        "",
        f"One SDPO update on 4 samples x 180 response tokens (one prompt and one rules-style follow-up, "
        f"as 2 TRL groups of 2), LoRA r=8 on q,k,v,o, live teacher, sampled-token loss, same starting weights "
        f"every step; median [min, max] of {timings['TRL fp32']['n']} alternating repeats after a warm-up; "
        "TRL's step = `training_step` + clip + optimizer step, generation replaced by the same fixed "
        "completions (benchmarks/trl_peer.py).",
        "",
        *_table(["arm", "wall s", "CPU s", "vs TRL fp32", "loss (1st step)"], rows),
        "",
        f"Target >= {UPDATE_TARGET}x TRL's step: {ratio:.2f}x with `{best_name}`, {verdict}. "
        f"The losses agree (fp32: |diff| {abs(losses['simbench fp32'] - losses['TRL fp32']):.1e}).",
        "",
        f"Quality of the bf16 path on these samples (n = {quality['tokens']} tokens): mean |A_t| "
        f"{quality['mean_abs_advantage']:.3f}, mean |A_t(bf16) - A_t(fp32)| {quality['mean_gap']:.4f}, "
        f"max {quality['max_gap']:.3f}.",
        "",
        "Fraction of the limit: the matmul peaks below are the limit of each path; an update step "
        "also runs attention, softmaxes over the 49k vocabulary and the optimizer, which no matmul "
        f"path speeds up. Peaks: " + ", ".join(f"{k} {v:.0f} GFLOP/s" for k, v in peak.items()) + ".",
    ]


def decode_section(results: dict[str, Any]) -> list[str]:
    decode, llama = results["decode"], results.get("llama_cpp")
    rows = [[name, _span(t), f"{t['cpu']:.2f}", f"{t['tokens_per_second']:.1f}"] for name, t in decode.items()]
    if llama:
        rows.append(["llama.cpp batch 1 (Q4_1 GGUF)", _span(llama), f"{llama['cpu']:.2f}",
                     f"{llama['tokens_per_second']:.1f}"])
    bandwidth = results["bandwidth_gbs"]
    weights_gb = 134.5e6 * 4 / 1e9
    lines = [
        "## Decoding: the hf backend vs llama.cpp",
        "",
        "64 new tokens per request (no early stop), sampled, LoRA merged as in a run; median "
        "[min, max] wall s of alternating repeats after a warm-up.",
        "",
        *_table(["arm", "wall s", "CPU s", "tokens/s"], rows),
        "",
        f"Memory bandwidth (large fp32 copy, read + write): {bandwidth:.1f} GB/s. A decode step "
        f"reads the {weights_gb:.2f} GB of fp32 weights once (0.27 GB as bf16 shadows), so the "
        f"bandwidth limit is {bandwidth / weights_gb:.0f} steps/s in fp32 and "
        f"{bandwidth / (weights_gb / 2):.0f} in bf16, whatever the batch.",
    ]
    for path in ("fp32", "bf16"):
        key = f"{path} batch 16"
        if key in decode:
            steps = 64 / decode[key]["median"]
            lines.append(f"- {path} batch 16: {steps:.1f} decode steps/s = "
                         f"{steps * (weights_gb / (1 if path == 'fp32' else 2)) / bandwidth:.0%} of that limit.")
    if llama:
        rate = llama["tokens_per_second"]
        single = max(t["tokens_per_second"] for name, t in decode.items() if name.endswith(" batch 1"))
        best_name = max(decode, key=lambda name: decode[name]["tokens_per_second"])
        lines.append(f"- One stream: the hf backend's best batch-1 arm decodes at {single / rate:.2f}x "
                     f"llama.cpp's {rate:.0f} tokens/s (llama.cpp's rate is the practical per-stream CPU limit).")
        lines.append(f"- Throughput: `{best_name}` gives {decode[best_name]['tokens_per_second'] / rate:.2f}x "
                     "llama.cpp's batch-1 tokens/s in total, by decoding many streams per weight read.")
    return lines


STAGES = ("generate", "probe", "drift", "update")  # a main job's time by stage, from its logs


def episode_section(results: dict[str, Any]) -> list[str]:
    episode = results.get("episode")
    if not episode:
        return ["## Main job", "", "Not run (add `--episode`)."]
    here = episode["fp32"]["run_seconds"]
    rows = []
    for path, e in episode.items():
        curve = " / ".join(f"{e['passes'][t][0]}/{e['passes'][t][1]}" for t in e["passes"])
        stages = e.get("stages")
        split = " / ".join(f"{stages.get(k, 0.0):.0f}" for k in STAGES) if stages else "–"
        rows.append([path, f"{e['seconds']:.0f}", f"{e['cpu_seconds']:.0f}", f"{e['run_seconds']:.0f}", split, curve,
                     f"{here / e['run_seconds']:.2f}x", f"{MAIN_JOB_BASELINE_S / e['run_seconds']:.2f}x"])
    fast = min(episode, key=lambda name: episode[name]["run_seconds"])
    ratio = here / episode[fast]["run_seconds"]
    verdict = "**met**" if ratio >= EPISODE_TARGET else "**not met**"
    return [
        "## Main job (`simbench run`, every default but the path and backend named)",
        "",
        *_table(["arm", "wall s", "CPU s", "run s", f"{' / '.join(STAGES)} s",
                 "concise passes per probe (t = 0, 8, ..., 40)",
                 "vs fp32 hf here", f"vs {MAIN_JOB_BASELINE_S:.0f} s"], rows),
        "",
        f"Fastest: `{fast}`, {ratio:.2f}x the fp32 hf row on this machine ({verdict} against the "
        f"{EPISODE_TARGET:.0f}x target measured on the same machine); "
        f"{MAIN_JOB_BASELINE_S / episode[fast]['run_seconds']:.2f}x the {MAIN_JOB_BASELINE_S:.0f} s of "
        "2026-11-27 (another, slower machine).",
    ]


def render(results: dict[str, Any]) -> str:
    m = results["machine"]
    lines = [
        "# simbench vs its peers and the machine's limits",
        "",
        f"Generated by `{results['command']}` on {m['date']} in {results['wall_seconds']:.0f} s.",
        "",
        f"Machine: {m['cpu']}, {m['usable_cores']} usable cores, CPU flags `{results['flags']}`, "
        f"{m['memory_gb']:.1f} GB, torch {m['torch']}, {m['threads']} threads; load average "
        f"{m['load'][0]:.2f} at the start.",
        "",
        "## Matmul peak per precision path (2048 x 2048, interleaved)",
        "",
        *_table(["path", "GFLOP/s"], [[k, f"{v:.0f}"] for k, v in results["matmul"].items()]),
        "",
        *update_section(results),
        "",
        *decode_section(results),
        "",
        *episode_section(results),
        "",
    ]
    return "\n".join(lines)
