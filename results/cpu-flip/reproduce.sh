#!/usr/bin/env bash
# The exact commands behind results/cpu-flip (run from the repository root, after the README's
# install command): issue 8's flip scenario with both sides reachable under 64 tokens, beside
# its no-flip match, 5 seeds x 24 probe prompts. One sweep per seed, so an interrupted session
# leaves whole seeds; reruns skip complete runs and resume unfinished ones.
set -euo pipefail
OUT=results/cpu-flip
for SEED in 0 1 2 3 4; do
  simbench sweep \
    --personas $OUT/personas/concise-then-elaborate-40.yaml $OUT/personas/concise-40.yaml \
    --learners frozen sdpo-token sdpo-token+unrelated \
    --seeds $SEED \
    --batch-size 4 --probe-every 8 --probe-prompts 24 --general-questions 4 --max-new-tokens 64 \
    --out $OUT --quiet
done
simbench leaderboard $OUT
