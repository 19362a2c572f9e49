"""Loading the model and building the learner, policy backend and user of one run.

Each part builds itself through the `from_config` hook of its Protocol; this module only
orders the builds: the learner first (it owns the policy and its adapter), then the backend
that generates with them, then the user.
"""

from __future__ import annotations

from typing import Any, Callable

from sdpo.errors import ModelNotFoundError, SDPOError
from sdpo.models import load_policy
from simbench.backends import BACKENDS
from simbench.backends.base import BackendContext, GenerationRequest
from simbench.backends.hf import GenerationConfig
from simbench.errors import InputError, PolicyError
from simbench.learners import LEARNERS
from simbench.learners.base import LearnerContext
from simbench.runner.build import Inputs, build_user
from simbench.runner.drift import DriftScorer, drift_items
from simbench.runner.episode import EpisodeParts

ModelLoader = Callable[[str, str], tuple[Any, Any]]


def load_model(name: str, device: str) -> tuple[Any, Any]:
    """The policy (fp32 on CPU) and its tokenizer; sdpo's errors become one-line errors."""
    try:
        return load_policy(name, device=device)
    except ModelNotFoundError as exc:
        raise InputError("--model", str(exc)) from None
    except SDPOError as exc:
        raise PolicyError(str(exc)) from None


def generation_config(inputs: Inputs) -> Any:
    config = inputs.config
    return GenerationConfig(
        max_new_tokens=config.max_new_tokens,
        temperature=config.temperature,
        top_p=config.top_p,
        batch_size=max(config.generation_batch_size, config.batch_size),
        matmul_path=inputs.matmul_path,
    )


def build_learner(inputs: Inputs, model: Any, tokenizer: Any, regenerate: Callable[..., list[Any]]) -> Any:
    config = inputs.config
    context = LearnerContext(model=model, tokenizer=tokenizer, seed=config.seed,
                             options=dict(config.learner_options), regenerate=regenerate,
                             matmul_path=inputs.matmul_path)
    try:
        return LEARNERS.get(config.learner).from_config(context)
    except (TypeError, ValueError) as exc:
        raise InputError("--learner-option", f"{config.learner}: {exc}") from None


def build_backend(inputs: Inputs, learner: Any, tokenizer: Any) -> Any:
    config = inputs.config
    context = BackendContext(
        model_name=config.model, device=config.device, policy=learner.policy,
        tokenizer=tokenizer, generation=generation_config(inputs), adapter_dir=learner.adapter_dir,
    )
    return BACKENDS.get(config.backend).from_config(context)


def build_parts(inputs: Inputs, load: ModelLoader = load_model) -> EpisodeParts:
    """Everything the episode loop drives, for validated `inputs`."""
    model, tokenizer = load(inputs.config.model, inputs.config.device)
    backend: Any = None

    def regenerate(messages_batch: Any, seed: int) -> list[Any]:
        requests = [GenerationRequest(messages=tuple(m), seed=seed + i, greedy=False)
                    for i, m in enumerate(messages_batch)]
        return backend.generate(requests)

    learner = build_learner(inputs, model, tokenizer, regenerate)
    backend = build_backend(inputs, learner, tokenizer)
    drift = DriftScorer(learner.policy, tokenizer, drift_items(inputs.drift_texts, inputs.general))
    return episode_parts(inputs, learner, backend, drift)


def episode_parts(inputs: Inputs, learner: Any, backend: Any, drift: DriftScorer) -> EpisodeParts:
    """The episode's parts around a built learner, backend and drift scorer (the user is
    built here); a population member assembles its own parts through this too."""
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
        drift=drift,
        scorer=inputs.scorer,
    )
