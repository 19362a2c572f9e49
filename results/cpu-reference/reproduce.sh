#!/usr/bin/env bash
# The exact commands behind results/cpu-reference (run from the repository root, after the
# README's install command). The sweep is resumable: rerunning skips complete runs.
set -euo pipefail
OUT=results/cpu-reference
time simbench sweep \
  --personas $OUT/personas/concise-32.yaml $OUT/personas/concise-then-detailed-48.yaml $OUT/personas/complementary-48.yaml \
  --learners frozen in-context-oracle sdpo-token sdpo-logit sdpo-unrelated \
  --seeds 0 1 \
  --batch-size 4 --probe-every 8 --probe-prompts 12 --general-questions 4 --max-new-tokens 64 \
  --out $OUT
simbench leaderboard $OUT
