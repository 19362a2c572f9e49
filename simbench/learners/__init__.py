"""Learning arms, registered by name (lazily: listing them imports no torch).

Every feedback-driven learner also has an unrelated-feedback control, `<learner>+unrelated`
(learners/unrelated.py); `sdpo-unrelated` is the older name of `sdpo-token+unrelated`.
"""

from simbench.learners.base import LEARNERS
from simbench.learners.unrelated import register_twins

LEARNERS.register_lazy("frozen", "simbench.learners.frozen:FrozenLearner")
LEARNERS.register_lazy("in-context-oracle", "simbench.learners.in_context:OracleLearner")
LEARNERS.register_lazy("in-context-oracle-user", "simbench.learners.in_context:OracleUserLearner")
LEARNERS.register_lazy("in-context-oracle-fewshot", "simbench.learners.in_context:OracleFewShotLearner")
LEARNERS.register_lazy("in-context-memory", "simbench.learners.in_context:MemoryLearner")
LEARNERS.register_lazy("sft-hindsight", "simbench.learners.sft_hindsight:SFTHindsightLearner")
LEARNERS.register_lazy("sdpo-token", "simbench.learners.sdpo:SDPOLearner")
LEARNERS.register_lazy("sdpo-logit", "simbench.learners.sdpo:LogitSDPOLearner")
register_twins()
