#!/usr/bin/env bash
# The exact commands behind results/cpu-specificity (run from the repository root, after the
# README's install command): issue 8's headline question on the one scenario the teachability
# map supports on SmolLM2, with 5 seeds x 24 probe prompts. Resumable: reruns skip complete runs.
set -euo pipefail
OUT=results/cpu-specificity
time simbench sweep \
  --personas results/cpu-reference/personas/concise-32.yaml \
  --learners frozen sdpo-token sdpo-unrelated \
  --seeds 0 1 2 3 4 \
  --batch-size 4 --probe-every 8 --probe-prompts 24 --general-questions 4 --max-new-tokens 64 \
  --out $OUT
simbench leaderboard $OUT
