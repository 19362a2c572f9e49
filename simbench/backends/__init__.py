"""Policy backends: batched generation from the (possibly LoRA-adapted) policy."""

from simbench.backends.base import BACKENDS

# Lazy: listing backends never imports torch or vllm.
BACKENDS.register_lazy("hf", "simbench.backends.hf:HFBackend")
BACKENDS.register_lazy("llama-cpp", "simbench.backends.llamacpp:LlamaCppBackend")
BACKENDS.register_lazy("vllm", "simbench.backends.vllm:VLLMBackend")
