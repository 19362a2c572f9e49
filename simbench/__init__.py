"""simbench: a benchmark for language models that learn from their users while they talk.

Every CLI command is a function here, loaded from `simbench.api` on first use so that
`import simbench` stays cheap (torch, transformers, vllm and openai are imported lazily inside
the parts that need them): `simbench.run`, `sweep`, `report`, `leaderboard`, `signal`,
`teachability`, `train_preset`, `power`, `distill`, `schema`, `list_names` and the
`simbench.personas` namespace (`list`, `validate`, `show`, `schema`); with them `read_run`,
`run_config`, `manifest_schema` and the types they return.
"""

from typing import Any

from simbench.distribution import version

__version__ = version()

# Static, so that tools (IDEs, type checkers, `from simbench import *`) can read it.
__all__ = [
    "RunConfig", "RunFolder", "RunResult", "SignalAnalysis", "SweepResult", "__version__", "convert_data", "distill",
    "leaderboard", "list_names", "manifest_schema", "personas", "power", "read_run", "report", "run",
    "run_config", "schema", "signal", "sweep", "teachability", "train_preset",
]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from simbench import api

        return getattr(api, name)
    raise AttributeError(f"module 'simbench' has no attribute {name!r}")
