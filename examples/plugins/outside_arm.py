"""An arm and a preference defined outside simbench, through its public extension API only.

`outside-sdpo` is SDPO (per-token advantages) with this plugin's own default options; it
declares that it learns from follow-ups, so its unrelated-feedback control
`outside-sdpo+unrelated` exists too, and a leaderboard shows its specificity. `plain-ascii`
is a preference a checker decides. Load it with any command:

    simbench run --plugin examples/plugins/outside_arm.py --learner outside-sdpo
    simbench run --plugin examples/plugins/outside_arm.py --learner outside-sdpo --feedback unrelated

or install it (`pip install ./examples/plugins`): its `simbench.plugins` entry point then
loads it in every simbench process, Ray workers included.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from simbench import extend
from simbench.extend import (
    LEARNERS,
    CheckResult,
    LearnerContext,
    Preference,
    register_preference,
)

DEFAULT_OPTIONS = {"lora_r": 4, "lr": 1e-3}
"""This arm's defaults; `--learner-option KEY=VALUE` still overrides each."""


@LEARNERS.register("outside-sdpo", learns_from_feedback=True)
class OutsideSDPO:
    """SDPO with per-token advantages and this plugin's defaults (rank-4 LoRA, lr 1e-3)."""

    @classmethod
    def from_config(cls, context: LearnerContext) -> Any:
        return extend.SDPOLearner.from_config(with_defaults(context))

    @classmethod
    def check_options(cls, context: LearnerContext) -> None:
        extend.SDPOLearner.check_options(with_defaults(context))


def with_defaults(context: LearnerContext) -> LearnerContext:
    return replace(context, options={**DEFAULT_OPTIONS, **context.options})


def check_plain_ascii(text: str) -> CheckResult:
    """Passes when every character is plain ASCII (no emoji, curly quotes or other symbols)."""
    found = next((ch for ch in text if ord(ch) > 127), None)
    return CheckResult(passed=found is None, evidence=found or "")


register_preference(Preference(
    id="plain-ascii",
    description="Answers in plain ASCII text: no emoji, curly quotes, arrows or other symbols.",
    checker=check_plain_ascii,
    keywords=("ascii", "plain text", "symbol", "character", "keyboard"),
    complaints=(
        "Please stick to plain keyboard characters.",
        "Use only plain ASCII text, nothing fancier.",
        "Write it with ordinary letters and punctuation only.",
    ),
    praise=("Thanks, clean plain text.", "Perfect, plain characters only."),
))
