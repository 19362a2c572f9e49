"""Loading the model and building the policy backend, user and learner of one run."""

from __future__ import annotations

from typing import Any, Callable

from simbench.errors import InputError, PolicyError
from simbench.learners.base import LearnerContext
from simbench.runner.build import Inputs, build_user
from simbench.runner.drift import DriftScorer, drift_items
from simbench.runner.episode import EpisodeParts

ModelLoader = Callable[[str, str], tuple[Any, Any]]


def load_model(name: str, device: str) -> tuple[Any, Any]:
    """The policy (fp32 on CPU) and its tokenizer; sdpo's errors become one-line errors."""
    from sdpo.errors import ModelNotFoundError, SDPOError
    from sdpo.models import load_policy

    try:
        return load_policy(name, device=device)
    except ModelNotFoundError as exc:
        raise InputError("--model", str(exc)) from None
    except SDPOError as exc:
        raise PolicyError(str(exc)) from None


def build_backend(inputs: Inputs, model: Any, tokenizer: Any) -> Any:
    from simbench.backends.base import BACKENDS
    from simbench.backends.hf import GenerationConfig

    config = inputs.config
    generation = GenerationConfig(
        max_new_tokens=config.max_new_tokens,
        temperature=config.temperature,
        top_p=config.top_p,
        batch_size=max(config.generation_batch_size, config.batch_size),
    )
    factory = BACKENDS.get(config.backend)
    if config.backend == "hf":
        return factory(model, tokenizer, generation)
    return factory.from_run(config.model, tokenizer, generation)


def build_parts(inputs: Inputs, load: ModelLoader = load_model) -> EpisodeParts:
    """Everything the episode loop drives, for validated `inputs`."""
    from simbench.backends.base import GenerationRequest
    from simbench.learners.base import LEARNERS

    config = inputs.config
    model, tokenizer = load(config.model, config.device)
    backend: Any = None

    def regenerate(messages_batch: Any, seed: int) -> list[Any]:
        requests = [GenerationRequest(messages=tuple(m), seed=seed + i, greedy=False)
                    for i, m in enumerate(messages_batch)]
        return backend.generate(requests)

    context = LearnerContext(
        model=model,
        tokenizer=tokenizer,
        seed=config.seed,
        options=dict(config.learner_options),
        regenerate=regenerate,
    )
    try:
        learner = LEARNERS.get(config.learner)(context)
    except (TypeError, ValueError) as exc:
        raise InputError("--learner-option", f"{config.learner}: {exc}") from None
    policy = getattr(learner, "model", model)
    backend = build_backend(inputs, policy, tokenizer)
    persona = inputs.persona
    return EpisodeParts(
        active=inputs.engine.active,
        preference=persona.preference,
        ever=inputs.engine.ever(),
        train_prompts=inputs.train,
        probe_prompts=inputs.probe,
        backend=backend,
        user=build_user(inputs),
        learner=learner,
        general=inputs.general,
        drift=DriftScorer(policy, tokenizer, drift_items(inputs.drift_texts, inputs.general)),
    )
