"""simbench: a benchmark for language models that learn from their users while they talk.

Importing this package is cheap: torch, transformers, vllm and openai are imported lazily
inside the backends that need them.
"""

__version__ = "0.1.0"
