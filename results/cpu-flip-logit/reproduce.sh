#!/usr/bin/env bash
# The exact commands behind results/cpu-flip-logit (run from the repository root, after the
# README's install command): results/cpu-flip's scenario and settings (flip `concise` ->
# `elaborate` at t=20 beside its no-flip match, 5 seeds x 24 probe prompts, 64 new tokens) for
# the logit-level learner and its unrelated-feedback twin. One sweep per seed, so an
# interrupted session leaves whole seeds; reruns skip complete runs and resume unfinished ones.
set -euo pipefail
OUT=results/cpu-flip-logit
PERSONAS=results/cpu-flip/personas
for SEED in 0 1 2 3 4; do
  simbench sweep \
    --personas $PERSONAS/concise-then-elaborate-40.yaml $PERSONAS/concise-40.yaml \
    --learners sdpo-logit sdpo-logit+unrelated \
    --seeds $SEED \
    --batch-size 4 --probe-every 8 --probe-prompts 24 --general-questions 4 --max-new-tokens 64 \
    --out $OUT --quiet
done
# One table with results/cpu-flip's frozen and sdpo-token runs (same scenario, settings and
# seeds): links, so those runs are stored once.
for run in results/cpu-flip/concise-*--*; do
  [ -e "$OUT/$(basename "$run")" ] || ln -s "../cpu-flip/$(basename "$run")" "$OUT/$(basename "$run")"
done
simbench leaderboard $OUT
