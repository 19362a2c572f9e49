"""Per-member stacked LoRA vs one peft adapter: one training step and greedy decode at U members.

For each U the same rows run (a) through one peft adapter, as a single run does (every row on
the same adapter), and (b) through `StackedLoRA`, each member's rows on its own slot
(`PopulationUpdater.step`; `generate` inside `rows(...)`). Batch shapes are equal, so the
ratio b/a is the price of per-row adapters; the base model's decode is timed beside them.
Arms alternate within each repeat (load drift hits both); medians after one warm-up.

    python benchmarks/bench_multi_lora.py                      # SmolLM2-135M, U = 1, 4, 16
    python benchmarks/bench_multi_lora.py --model tiny --members 1,4 --repeats 1 \
        --response-tokens 8 --decode-tokens 4                   # seconds: checks the harness
"""

from __future__ import annotations

import argparse
import statistics
import time
from typing import Any, Callable

import torch
from bench_update import synthetic_samples

from sdpo.config import SDPOConfig
from sdpo.multi_lora import StackedLoRA
from sdpo.population_update import PopulationUpdater
from sdpo.updater import SDPOUpdater

PROMPTS = ("How do I boil an egg?", "Explain what a hash map is.", "Why is the sky blue?", "Name three rivers.")


def load(model: str) -> tuple[Any, Any]:
    """(model, tokenizer): the 2-layer random Llama for "tiny", else `sdpo.models.load_policy`."""
    if model == "tiny":
        from bench_episode import tiny_loader

        return tiny_loader(model, "cpu")
    from sdpo.models import load_policy

    return load_policy(model)


def seconds_of(action: Callable[[], Any]) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def randomise(parameters: list[torch.Tensor], seed: int) -> None:
    # Fresh adapters have B = 0; random ones make every slot's rows really differ.
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in parameters:
            p.copy_(0.02 * torch.randn(p.shape, generator=gen, dtype=p.dtype))


def measure(args: argparse.Namespace, members: int) -> dict[str, float]:
    """Median seconds of each arm at `members` members."""
    config = SDPOConfig()
    single_model, tokenizer = load(args.model)
    single = SDPOUpdater(single_model, tokenizer, config)
    randomise(list(single.parameters.values()), seed=0)
    stacked_model, _ = load(args.model)
    stacked = StackedLoRA(stacked_model, config, slots=members)
    population = PopulationUpdater(stacked_model, tokenizer, stacked)
    for slot in range(members):
        population.add_member(slot, SDPOConfig(seed=slot))
    randomise(stacked.parameters(), seed=0)

    per_member = synthetic_samples(tokenizer, PROMPTS, args.samples, args.response_tokens)
    every = per_member * members
    prompt = tokenizer.apply_chat_template(
        [{"role": "user", "content": PROMPTS[0]}], add_generation_prompt=True, return_tensors="pt", return_dict=True
    )["input_ids"]
    rows = prompt.repeat(members * args.decode_rows, 1)
    mask = torch.ones_like(rows)  # one prompt for every row: no padding
    slots = [slot for slot in range(members) for _ in range(args.decode_rows)]
    settings = {
        "max_new_tokens": args.decode_tokens,
        "min_new_tokens": args.decode_tokens,
        "do_sample": False,
        "pad_token_id": tokenizer.pad_token_id,
        "attention_mask": mask,
    }

    def stacked_decode() -> Any:
        with stacked.rows(slots):
            return stacked_model.generate(rows, **settings)

    arms = {
        "train_single": lambda: single.step(every),
        "train_stacked": lambda: population.step({slot: per_member for slot in range(members)}),
        "decode_single": lambda: single.model.generate(rows, **settings),
        "decode_stacked": stacked_decode,
        "decode_base": lambda: stacked_model.generate(rows, **settings),
    }
    seconds: dict[str, list[float]] = {name: [] for name in arms}
    with torch.no_grad():
        for name in ("decode_single", "decode_stacked", "decode_base"):
            arms[name]()  # warm-up
    for name in ("train_single", "train_stacked"):
        arms[name]()
    for repeat in range(args.repeats):
        order = list(arms) if repeat % 2 == 0 else list(reversed(arms))
        for name in order:
            if name.startswith("decode"):
                with torch.no_grad():
                    seconds[name].append(seconds_of(arms[name]))
            else:
                seconds[name].append(seconds_of(arms[name]))
    out = {name: statistics.median(values) for name, values in seconds.items()}
    per_slot = sum(p[0].numel() for p in stacked.parameters()) * stacked.parameters()[0].element_size()
    out["member_mb"] = 3 * per_slot / 2**20  # adapter + AdamW's two moments
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="smollm2-135m", help='a model name `load_policy` knows, or "tiny"')
    parser.add_argument("--members", default="1,4,16", help="comma-separated population sizes U")
    parser.add_argument("--samples", type=int, default=1, help="update samples per member")
    parser.add_argument("--response-tokens", type=int, default=32, help="tokens per update sample's response")
    parser.add_argument("--decode-rows", type=int, default=1, help="decode rows per member")
    parser.add_argument("--decode-tokens", type=int, default=16, help="greedy tokens per decode row")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=None, help="torch intra-op threads (default: torch's)")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    print(f"model {args.model}, {args.samples} update sample(s) x {args.response_tokens} tokens and "
          f"{args.decode_rows} decode row(s) x {args.decode_tokens} tokens per member, "
          f"median of {args.repeats}, {torch.get_num_threads()} thread(s)\n")
    print("| U | train: one peft adapter (s) | train: stacked (s) | ratio | decode: one peft adapter (s) "
          "| decode: stacked (s) | ratio | decode: base (s) | MB per member |")
    print("|---|---|---|---|---|---|---|---|---|")
    for members in (int(u) for u in args.members.split(",")):
        r = measure(args, members)
        print(f"| {members} | {r['train_single']:.3f} | {r['train_stacked']:.3f} | "
              f"{r['train_stacked'] / r['train_single']:.2f} | {r['decode_single']:.3f} | "
              f"{r['decode_stacked']:.3f} | {r['decode_stacked'] / r['decode_single']:.2f} | "
              f"{r['decode_base']:.3f} | {r['member_mb']:.2f} |", flush=True)


if __name__ == "__main__":
    main()
