#!/usr/bin/env bash
# The exact commands behind results/preset-fr (run from the repository root, after the README's
# install command, on a quiet machine: every step runs alone). Issue 9's go/no-go measurement of
# the feedback-reading preset `smollm2-135m-fr` against its base `smollm2-135m`:
#  0. (optional) retrain the adapter from scratch: ~19 min, ~34 CPU-min on 2 cores;
#  1. in-context: frozen, hindsight-read (relevant vs unrelated follow-up) and oracle answers
#     to 48 held-out probes, and the 45 general questions, per model (~9 min each);
#  2. SDPO micro-runs (teachability map's relevant vs unrelated arms, 4 updates x 4
#     interactions, lr 1e-3) at seeds 0-2, 48 probes, per model and preference (~11 min each);
#  3. the paired table and the decision.
set -euo pipefail
OUT=results/preset-fr
if [[ "${RETRAIN:-0}" == 1 ]]; then
  simbench train-preset --out sdpo/preset_adapters/smollm2-135m-fr
fi
P=concise,lists,ends-with-question,emojis,formal,answer-first,casual,plain-language
for model in smollm2-135m smollm2-135m-fr; do
  tag=$([[ $model == smollm2-135m ]] && echo base || echo fr)
  python benchmarks/preset_eval.py --model $model --phase in-context --preferences $P --out $OUT/$tag-in-context.json
done
for pref in ${SDPO_PREFERENCES:-concise answer-first}; do
  for model in smollm2-135m smollm2-135m-fr; do
    tag=$([[ $model == smollm2-135m ]] && echo base || echo fr)
    python benchmarks/preset_eval.py --model $model --phase sdpo --preferences $pref --seeds 0,1,2 \
      --out $OUT/$tag-sdpo-$pref.json
  done
done
python benchmarks/preset_table.py --folder $OUT
# The second recipe (targets = the model's own in-context answers that pass; not shipped):
if [[ "${SECOND_RECIPE:-1}" == 1 ]]; then
  simbench train-preset --targets self --out $OUT/adapter-self   # ~20 min; not committed (3.7 MB)
  python benchmarks/preset_eval.py --model smollm2-135m --adapter $OUT/adapter-self --phase in-context \
    --preferences $P --out $OUT/fr2-in-context.json
  python benchmarks/preset_eval.py --model smollm2-135m --adapter $OUT/adapter-self --phase sdpo \
    --preferences concise --seeds 0,1,2 --out $OUT/fr2-sdpo-concise.json
  python benchmarks/preset_table.py --folder $OUT --preset fr2
fi
