#!/usr/bin/env bash
# The exact commands behind results/cpu-specificity-logit (run from the repository root, after
# the README's install command): results/cpu-specificity's scenario and settings for the
# logit-level learner and its unrelated-feedback twin, 5 seeds x 24 probe prompts. Resumable.
set -euo pipefail
OUT=results/cpu-specificity-logit
time simbench sweep \
  --personas results/cpu-reference/personas/concise-32.yaml \
  --learners sdpo-logit sdpo-logit+unrelated \
  --seeds 0 1 2 3 4 \
  --batch-size 4 --probe-every 8 --probe-prompts 24 --general-questions 4 --max-new-tokens 64 \
  --out $OUT
# One table with results/cpu-specificity's frozen and sdpo-token runs (same scenario, settings
# and seeds): links, so those runs are stored once.
for run in results/cpu-specificity/concise-32--*; do
  [ -e "$OUT/$(basename "$run")" ] || ln -s "../cpu-specificity/$(basename "$run")" "$OUT/$(basename "$run")"
done
simbench leaderboard $OUT
