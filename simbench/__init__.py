"""simbench: a benchmark for language models that learn from their users while they talk.

The public API (`simbench.run`, `simbench.sweep`, `simbench.report`, `simbench.leaderboard`,
`simbench.distill`, `simbench.power`, `simbench.read_run`, `simbench.manifest_schema`, `simbench.RunConfig`)
lives in `simbench.api` and is loaded on first use, so `import simbench` stays cheap: torch,
transformers, vllm and openai are imported lazily inside the parts that need them.
(`simbench.report` is also the reports package, which is callable for that reason.)
"""

from typing import Any

from simbench.distribution import version

__version__ = version()

API = (
    "RunConfig", "RunFolder", "RunResult", "SweepResult", "convert_data", "distill", "leaderboard",
    "manifest_schema", "power", "read_run", "report", "run", "run_config", "sweep",
)
__all__ = ["__version__", *API]


def __getattr__(name: str) -> Any:
    if name in API:
        from simbench import api

        return getattr(api, name)
    raise AttributeError(f"module 'simbench' has no attribute {name!r}")
