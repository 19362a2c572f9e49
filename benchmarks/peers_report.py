"""The markdown of benchmarks/PEERS.md from `peers.py`'s results, one table set per machine kind
(pure formatting)."""

from __future__ import annotations

import statistics
from typing import Any

MAIN_JOB_BASELINE_S = 275.0  # the main job's run time on the 2026-11-27 machine, the baseline speed targets start from
UPDATE_TARGET = 1.3  # x TRL's best configuration, amortised
UPDATE_SELF_TARGET = 2.0  # x simbench fp32, amortised
EPISODE_TARGET = 3.0


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    return ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)] + ["| " + " | ".join(r) + " |" for r in rows]


def _span(t: dict[str, float]) -> str:
    return f"{t['median']:.2f} [{t['low']:.2f}, {t['high']:.2f}]"


def _mean_span(t: dict[str, float]) -> str:
    return f"{t['mean']:.2f} [{t['low']:.2f}, {t['high']:.2f}]"


def update_section(results: dict[str, Any]) -> list[str]:
    update, peak = results.get("update"), results["matmul"]
    if not update:
        return ["### Update step", "", "Not measured like for like on this machine."]
    timings, losses = update["timings"], update["losses"]
    trl_best = min((n for n in timings if n.startswith("TRL")), key=lambda n: timings[n]["mean"])
    trl, best_peer = timings["TRL fp32"]["mean"], timings[trl_best]["mean"]
    rows = [[name, _mean_span(t), f"{t['cpu']:.2f}", f"{trl / t['mean']:.2f}x", f"{best_peer / t['mean']:.2f}x",
             f"{losses[name]:.6f}"] for name, t in timings.items()]
    quality = update["quality"]
    best_name = min((n for n in timings if n.startswith("simbench")), key=lambda n: timings[n]["mean"])
    ratio = best_peer / timings[best_name]["mean"]
    own = timings["simbench fp32"]["mean"] / timings[best_name]["mean"]
    verdict = "**met**" if ratio >= UPDATE_TARGET and own >= UPDATE_SELF_TARGET else "**not met**"
    return [
        "### Update step: simbench vs TRL's SDPOTrainer",
        "",
        f"One SDPO update on 4 samples x {update.get('tokens', 180)} response tokens (one prompt and one "
        "rules-style follow-up, as 2 TRL groups of 2), LoRA r=8 on q,k,v,o, live teacher, sampled-token loss, "
        f"same starting weights every step; mean [min, max] of {timings['TRL fp32']['n']} alternating steps "
        f"after a warm-up, whole cycles of {update['kl_every']} steps, simbench's step counter never reset (so "
        "a KL-every-N arm pays its KL steps as a run does). TRL's step = `training_step` + clip + optimizer "
        "step, generation replaced by the same fixed completions, no gradient checkpointing, in fp32 and in its "
        "`bf16=True` CPU mixed precision (benchmarks/trl_peer.py).",
        "",
        *_table(["arm", "wall s", "CPU s", "vs TRL fp32", f"vs {trl_best}", "loss (1st step)"], rows),
        "",
        f"Target >= {UPDATE_TARGET}x TRL's best (`{trl_best}`) and >= {UPDATE_SELF_TARGET}x simbench fp32: "
        f"{ratio:.2f}x and {own:.2f}x with `{best_name}`, {verdict}. "
        f"The fp32 losses agree (|diff| {abs(losses['simbench fp32'] - losses['TRL fp32']):.1e}).",
        "",
        f"Quality of the bf16 path on these samples (n = {quality['tokens']} tokens): mean |A_t| "
        f"{quality['mean_abs_advantage']:.3f}, mean |A_t(bf16) - A_t(fp32)| {quality['mean_gap']:.4f}, "
        f"max {quality['max_gap']:.3f}.",
        "",
        "Fraction of the limit: the matmul peaks above are the limit of each path; an update step "
        "also runs attention, softmaxes over the 49k vocabulary and the optimizer, which no matmul "
        "path speeds up. Peaks: " + ", ".join(f"{k} {v:.0f} GFLOP/s" for k, v in peak.items()) + ".",
    ]


def decode_section(results: dict[str, Any]) -> list[str]:
    decode, llama = results.get("decode"), results.get("llama_cpp")
    if not decode:
        return ["### Decoding", "", "Not measured on this machine."]
    rows = [[name, _span(t), f"{t['cpu']:.2f}", f"{t['tokens_per_second']:.1f}"] for name, t in decode.items()]
    if llama:
        rows.append(["llama.cpp batch 1 (Q4_1 GGUF)", _span(llama), f"{llama['cpu']:.2f}",
                     f"{llama['tokens_per_second']:.1f}"])
    bandwidth = results["bandwidth_gbs"]
    weights_gb = 134.5e6 * 4 / 1e9
    lines = [
        "### Decoding: the hf backend vs llama.cpp",
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


def _runs_span(runs: list[dict[str, Any]], key: str) -> str:
    values = [r[key] for r in runs]
    return f"{statistics.median(values):.0f} [{min(values):.0f}, {max(values):.0f}]"


def episode_section(results: dict[str, Any]) -> list[str]:
    episode = results.get("episode")
    if not episode:
        return ["### Main job", "", "Not measured like for like on this machine (`--episode`)."]
    run_s = {name: statistics.median(r["run_seconds"] for r in runs) for name, runs in episode.items()}
    here = run_s["fp32"]
    rows = []
    for name, runs in episode.items():
        curves = {" / ".join(f"{p[0]}/{p[1]}" for p in r["passes"].values()) for r in runs}
        stages = runs[0].get("stages")
        split = " / ".join(f"{stages.get(k, 0.0):.0f}" for k in STAGES) if stages else "–"
        rows.append([name, _runs_span(runs, "seconds"), _runs_span(runs, "cpu_seconds"),
                     _runs_span(runs, "run_seconds"), split, "; ".join(sorted(curves)),
                     f"{here / run_s[name]:.2f}x", f"{MAIN_JOB_BASELINE_S / run_s[name]:.2f}x"])
    fast = min(run_s, key=run_s.__getitem__)
    ratio = here / run_s[fast]
    verdict = "**met**" if ratio >= EPISODE_TARGET else "**not met**"
    repeats = min(len(runs) for runs in episode.values())
    return [
        "### Main job (`simbench run`, every default but the path and backend named)",
        "",
        f"Median [min, max] of {repeats} runs per arm, arms alternated and their order reversed every "
        "other repeat; stage split of the first run; every distinct curve seen.",
        "",
        *_table(["arm", "wall s", "CPU s", "run s", f"{' / '.join(STAGES)} s",
                 "concise passes per probe (t = 0, 8, ..., 40)",
                 "vs fp32 hf here", f"vs {MAIN_JOB_BASELINE_S:.0f} s"], rows),
        "",
        f"Fastest: `{fast}`, {ratio:.2f}x the fp32 hf row on this machine ({verdict} against the "
        f"{EPISODE_TARGET:.0f}x target measured on the same machine); "
        f"{MAIN_JOB_BASELINE_S / run_s[fast]:.2f}x the {MAIN_JOB_BASELINE_S:.0f} s of "
        "2026-11-27 (another, slower machine).",
    ]


def machine_section(label: str, results: dict[str, Any]) -> list[str]:
    m, size = results["machine"], results.get("matmul_size", 2048)
    return [
        f"## {label}",
        "",
        f"Generated by `{results['command']}` on {m['date']} in {results['wall_seconds']:.0f} s.",
        "",
        f"Machine: {m['cpu']}, {m['usable_cores']} usable cores, CPU flags `{results['flags']}`, "
        f"{m['memory_gb']:.1f} GB, torch {m['torch']}, {m['threads']} threads; load average "
        f"{m['load'][0]:.2f} at the start.",
        "",
        f"### Matmul peak per precision path ({size} x {size}, interleaved)",
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


def render(data: dict[str, Any]) -> str:
    """PEERS.md: one section per machine kind in `data["machines"]` (label -> results)."""
    lines = ["# simbench vs its peers and the machine's limits", "",
             "One section per machine kind (CPU model and flags); numbers from different machines are "
             "not compared with each other.", ""]
    for label, results in data["machines"].items():
        lines += machine_section(label, results)
    return "\n".join(lines)
