"""Raw follow-ups from simbench's LLM user, for labelling the quality gate's test set.

For one shipped persona, `--prompts` training prompts are answered by the model behind
`--base-url` with no system prompt (what the `frozen` learner sends), and `OpenAIUser` writes
`--replies` follow-ups to each answer with one gate try, so nothing is filtered out. Extra
replies to one answer cost only decoding: llama.cpp reuses the cached prompt. One JSON line
per reply goes to `--out` (appended), with its gate flags; labels are added by hand
(tests/unit/users/gate_labels.jsonl, docs/user-gate.md).

  python -m llama_cpp.server --model SmolLM2-135M-Instruct.Q4_1.gguf --model_alias smollm2-135m \
      --host 127.0.0.1 --port 8000 --n_ctx 2048 &
  python benchmarks/harvest_user_replies.py --persona concise --temperature 0.7 --seed 0 \
      --base-url http://127.0.0.1:8000/v1 --out replies.jsonl
"""

from __future__ import annotations

import argparse
import json
import random
import urllib.request

from simbench.paths import resolve_persona
from simbench.persona.engine import PersonaEngine
from simbench.persona.loader import load_persona, load_persona_prompts
from simbench.users.openai_compat import OpenAIUser

MODEL = "smollm2-135m"
ANSWER_TOKENS = 48


def answer(base_url: str, prompt: str, seed: int) -> str:
    """The policy's answer to `prompt`, sampled as a run samples it (temperature 0.7, top-p 0.9)."""
    body = json.dumps({"model": MODEL, "messages": [{"role": "user", "content": prompt}],
                       "max_tokens": ANSWER_TOKENS, "temperature": 0.7, "top_p": 0.9, "seed": seed}).encode()
    request = urllib.request.Request(base_url + "/chat/completions", body, {"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=120) as reply:
        return json.load(reply)["choices"][0]["message"]["content"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--persona", required=True)
    parser.add_argument("--temperature", type=float, default=0.7, help="The LLM user's sampling temperature.")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--prompts", type=int, default=8)
    parser.add_argument("--replies", type=int, default=3, help="Follow-ups sampled per answer.")
    parser.add_argument("--base-url", default="http://127.0.0.1:8000/v1")
    parser.add_argument("--out", required=True)
    args = parser.parse_args()

    persona = load_persona(resolve_persona(args.persona), check_prompts=False)
    engine = PersonaEngine(persona)
    train, _ = load_persona_prompts(persona)
    rng = random.Random(1000 + args.seed)
    user = OpenAIUser(args.base_url, MODEL, api_key_env=None, temperature=args.temperature, seed=args.seed,
                      background=persona.background, gate_attempts=1)
    with open(args.out, "a", encoding="utf-8") as out:
        for i in range(args.prompts):
            t = i * persona.interactions // args.prompts  # spread over the schedule's phases
            prompt = rng.choice(train).text
            response = answer(args.base_url, prompt, seed=100 * args.seed + i)
            for j in range(args.replies):
                follow = user.follow_up(prompt, response, engine.active_preferences(t), rng)
                out.write(json.dumps({
                    "id": f"{persona.id}-h{args.seed}-{i:02d}{'abcdefghij'[j]}", "persona": persona.id, "t": t,
                    "temperature": args.temperature, "prompt": prompt, "answer": response, "text": follow.text,
                    "flags": follow.meta["gate"]["flags"]}, ensure_ascii=False) + "\n")
                out.flush()


if __name__ == "__main__":
    main()
