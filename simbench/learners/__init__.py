"""Learning arms, registered by name (lazily: listing them imports no torch)."""

from simbench.learners.base import LEARNERS

LEARNERS.register_lazy("frozen", "simbench.learners.frozen:FrozenLearner")
LEARNERS.register_lazy("in-context-oracle", "simbench.learners.in_context:OracleLearner")
LEARNERS.register_lazy("in-context-oracle-user", "simbench.learners.in_context:OracleUserLearner")
LEARNERS.register_lazy("in-context-oracle-fewshot", "simbench.learners.in_context:OracleFewShotLearner")
LEARNERS.register_lazy("in-context-memory", "simbench.learners.in_context:MemoryLearner")
LEARNERS.register_lazy("sft-hindsight", "simbench.learners.sft_hindsight:SFTHindsightLearner")
LEARNERS.register_lazy("sdpo-token", "simbench.learners.sdpo:token_learner")
LEARNERS.register_lazy("sdpo-logit", "simbench.learners.sdpo:logit_learner")
LEARNERS.register_lazy("sdpo-unrelated", "simbench.learners.sdpo:unrelated_learner")
