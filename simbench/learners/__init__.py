"""Learning arms, registered by name (lazily: listing them imports no torch).

Every learner registered with `learns_from_feedback=True` also has an unrelated-feedback
control, `<learner>+unrelated` (learners/registry.py); `sdpo-unrelated` is the older name of
`sdpo-token+unrelated`.
"""

from simbench.learners.registry import LEARNERS

LEARNERS.register_lazy("frozen", "simbench.learners.frozen:FrozenLearner")
LEARNERS.register_lazy("in-context-oracle", "simbench.learners.in_context:OracleLearner")
LEARNERS.register_lazy("in-context-oracle-user", "simbench.learners.in_context:OracleUserLearner")
LEARNERS.register_lazy("in-context-oracle-fewshot", "simbench.learners.in_context:OracleFewShotLearner")
LEARNERS.register_lazy("in-context-memory", "simbench.learners.in_context:MemoryLearner", learns_from_feedback=True)
LEARNERS.register_lazy("sft-hindsight", "simbench.learners.sft_hindsight:SFTHindsightLearner",
                       learns_from_feedback=True)
LEARNERS.register_lazy("sdpo-token", "simbench.learners.sdpo:SDPOLearner", learns_from_feedback=True)
LEARNERS.register_lazy("sdpo-logit", "simbench.learners.sdpo:LogitSDPOLearner", learns_from_feedback=True)

__all__ = ["LEARNERS"]
