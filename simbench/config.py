"""`RunConfig`: everything that defines a run. CLI flags and config files map onto it.

Validation fails with the flag (or config-file field) and the bad value in one line. The
config is stored in the run's manifest; `--resume` refuses to continue under a different one.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_serializer,
    model_validator,
)

from simbench.arms import FEEDBACK, Feedback, parse_arm, twin_name
from simbench.errors import InputError
from simbench.paths import check_path_length
from simbench.plugins import load_plugins, loaded_plugins
from simbench.redaction import redact
from simbench.registry import suggest
from simbench.run_defaults import DEFAULTS, MAX_BATCH
from simbench.safe_load import check_text, decode_utf8, load_plain_yaml, parse_json, read_bounded, too_many_digits
from simbench.seeding import MAX_SEED


class RunConfig(BaseModel):
    """One persona x learner x seed episode."""

    model_config = ConfigDict(extra="forbid")

    persona: str = Field(
        DEFAULTS["persona"],
        description="Persona YAML file, or the id of a persona shipped in personas/.",
    )
    learner: str = Field(DEFAULTS["learner"], description="Learning arm (`simbench list learners`).")
    feedback: Feedback = Field(
        "user", description="What a feedback-driven learner learns from: `user` follow-ups, or `unrelated` "
        "user messages in their place (its control arm). `unrelated` names the run's learner "
        "`<learner>+unrelated`, which is how the config and manifest record it.",
    )
    plugins: list[str] = Field(
        default_factory=loaded_plugins,
        description="Plugins (dotted modules or .py files) imported before the run resolves names, "
        "also on sweep workers and on resume; default: those `--plugin` loaded in this process.",
    )
    model: str = Field(
        DEFAULTS["model"], description="Policy model: `smollm2-135m`, a local folder or a HF id."
    )
    backend: str = Field(DEFAULTS["backend"], description="Generation backend: `hf`, `llama-cpp` (CPU, GGUF models) or `vllm` (GPU).")
    device: str = Field(DEFAULTS["device"], description="Torch device for the policy: cpu, cuda, cuda:N.")
    user: str = Field(DEFAULTS["user"], description="User simulator: `rules`, `openai` or `local`.")
    user_options: dict[str, Any] = Field(
        default_factory=dict,
        description="Options of the user simulator (base_url, model, api_key_env, ...).",
    )
    judge: str | None = Field(
        None, description="LLM judge scoring the rubric (judge-scored) preferences: `openai`; "
        "none: those preferences are not scored.",
    )
    judge_options: dict[str, Any] = Field(
        default_factory=dict, description="Options of the judge (base_url, model, api_key_env, cache, ...)."
    )
    interactions: int | None = Field(
        None, ge=1, le=100_000, description="Episode length; default: the persona's `interactions`."
    )
    turns: int = Field(DEFAULTS["turns"], ge=1, le=8, description="User follow-ups per interaction.")
    batch_size: int = Field(DEFAULTS["batch_size"], ge=1, le=MAX_BATCH, description="Interactions per learner update.")
    probe_every: int = Field(
        DEFAULTS["probe_every"], ge=1, description="Interactions between probes (a multiple of batch_size)."
    )
    probe_prompts: int = Field(DEFAULTS["probe_prompts"], ge=1, description="Held-out probe prompts per probe.")
    probe_draw: Literal["shared", "per-user"] = Field(
        DEFAULTS["probe_draw"], description="Which probe prompts a run answers: `shared` (the pool's "
        "first probe_prompts suitable prompts, the same for every seed) or `per-user` (a subset drawn "
        "from the pool with the run seed, so every simulated user has its own probes).",
    )
    general_questions: int = Field(
        DEFAULTS["general_questions"], ge=0, description="General-capability questions per probe (collateral drift)."
    )
    generation_batch_size: int = Field(
        DEFAULTS["generation_batch_size"], ge=1, le=MAX_BATCH, description="Requests decoded together (probes; each update batch is one call)."
    )
    max_new_tokens: int = Field(DEFAULTS["max_new_tokens"], ge=1, le=4096, description="Cap on response length.")
    temperature: float = Field(DEFAULTS["temperature"], ge=0.0, description="Sampling temperature (training).")
    top_p: float = Field(DEFAULTS["top_p"], gt=0.0, le=1.0, description="Nucleus sampling (training).")
    seed: int = Field(DEFAULTS["seed"], ge=0, le=MAX_SEED, description="Run seed; every random draw derives from it.")
    checkpoint_every: int | None = Field(
        None, ge=1, description="Interactions between checkpoints (default: probe_every)."
    )
    learner_options: dict[str, Any] = Field(
        default_factory=dict,
        description="Learner options (lr, lora_r, top_k, memory_size, ...).",
    )
    max_failed_updates: int = Field(
        DEFAULTS["max_failed_updates"], ge=1, description="Consecutive non-finite updates before the run stops."
    )
    precision: Literal["fp32", "bf16", "auto"] = Field(
        DEFAULTS["precision"], description="Matmul path on CPU: fp32 (exact, reproducible across "
        "machines), bf16 (bf16 copies of the frozen weights, fp32 LoRA and losses; refused where it does "
        "not compute in bf16) or auto (the faster of the two, measured once per machine). The manifest "
        "records the path used and why.",
    )

    @model_serializer(mode="wrap")
    def _no_judge_implied(self, handler: Any) -> dict[str, Any]:
        # A run without a judge is written as before judges existed: its manifest and sweep
        # records stay identical to committed ones, and old folders compare equal on resume.
        data = handler(self)
        if data.get("judge") is None and not data.get("judge_options"):
            data.pop("judge", None)
            data.pop("judge_options", None)
        if data.get("precision") == DEFAULTS["precision"]:
            data.pop("precision", None)  # likewise for runs on the default (exact) path
        if data.get("probe_draw") == DEFAULTS["probe_draw"]:
            data.pop("probe_draw", None)  # and for runs on the shared probe set
        data.pop("feedback", None)  # the learner's name says it (`+unrelated`): one way to store it
        if not data.get("plugins"):
            data.pop("plugins", None)
        return data

    # Field validators (not a model validator) so the error names the offending flag;
    # batch_size is declared earlier, so it is already validated in `info.data`.
    @field_validator("probe_every")
    @classmethod
    def _probes_between_batches(cls, value: int, info: ValidationInfo) -> int:
        batch_size = info.data.get("batch_size")
        if batch_size and value % batch_size:
            raise ValueError(
                f"must be a multiple of batch_size={batch_size} "
                "(probes happen between update batches)"
            )
        return value

    @field_validator("feedback")
    @classmethod
    def _feedback_agrees_with_learner(cls, value: str, info: ValidationInfo) -> str:
        learner = str(info.data.get("learner") or "")
        if value not in FEEDBACK:
            return value  # the Literal check names it
        if value == "user" and parse_arm(learner).feedback == "unrelated":
            raise ValueError(f"learner {learner!r} is an unrelated-feedback control; use --feedback unrelated "
                             "or the learner without `+unrelated`")
        return value

    @field_validator("plugins")
    @classmethod
    def _import_plugins(cls, value: list[str]) -> list[str]:
        # Imported here, so every name the config goes on to resolve can be a plugin's.
        return load_plugins(value, where="plugins")

    @model_validator(mode="after")
    def _arm_name_says_the_feedback(self) -> RunConfig:
        if self.feedback == "unrelated" and parse_arm(self.learner).feedback != "unrelated":
            self.learner = twin_name(self.learner)
        self.feedback = parse_arm(self.learner).feedback
        return self

    @field_validator("precision")
    @classmethod
    def _precision_on_device(cls, value: str, info: ValidationInfo) -> str:
        device = str(info.data.get("device") or "cpu")
        if value == "bf16" and not device.startswith("cpu"):
            raise ValueError(f"bf16 is a CPU matmul path; device {device!r} runs fp32 (use fp32 or auto)")
        return value

    @field_validator("checkpoint_every")
    @classmethod
    def _checkpoints_between_batches(cls, value: int | None, info: ValidationInfo) -> int | None:
        batch_size = info.data.get("batch_size")
        if value is not None and batch_size and value % batch_size:
            raise ValueError(f"must be a multiple of batch_size={batch_size}")
        return value

    def for_resume_check(self) -> dict[str, Any]:
        """The fields that must match for `--resume` to continue a run, as the manifest stores
        them (secret user options dropped), so a run with an API key can resume."""
        return self.redacted().model_dump(mode="json")

    def redacted(self) -> RunConfig:
        """This config as a manifest stores it: the secret user options dropped."""
        return self.model_copy(update={"user_options": redact(self.user_options),
                                       "judge_options": redact(self.judge_options)})


def flag_name(field: str) -> str:
    return "--" + field.replace("_", "-")


def build_config(values: dict[str, Any], where: str | None = None) -> RunConfig:
    """Validate `values` into a RunConfig; errors name the flag (or `where`'s field)."""
    try:
        return RunConfig.model_validate(values)
    except ValidationError as exc:
        error = exc.errors()[0]
        field = ".".join(str(part) for part in error["loc"])
        bad = error.get("input")
        message = error["msg"].removeprefix("Value error, ")
        if not field:
            raise InputError(where or "config", message) from None
        location = f"{where}: {field}" if where else flag_name(field)
        if error["type"] == "extra_forbidden":
            raise InputError(
                location, "unknown setting", suggest(field, list(RunConfig.model_fields))
            ) from None
        shown = "" if isinstance(bad, dict) else f" (got {bad!r})"
        raise InputError(location, f"{message}{shown}") from None


def load_config_file(path: Path) -> dict[str, Any]:
    """Read a YAML or JSON config file (bounded, safe loader) into a dict of RunConfig fields."""

    where = str(path)
    check_path_length(path, "--config")
    if not path.is_file():
        problem = "is a directory, not a file" if path.is_dir() else f"file not found: {path}"
        raise InputError("--config", problem)
    text = decode_utf8(read_bounded(path, where), where)
    if path.suffix == ".json":
        data = parse_json(text, where)
    else:
        try:
            # The persona files' loader: safe, without aliases (a "billion laughs" value would
            # hang the manifest writer) and with bounded nesting.
            data = load_plain_yaml(text)
        except (yaml.YAMLError, RecursionError) as exc:
            problem = " ".join(str(exc).split()) if isinstance(exc, yaml.YAMLError) else "nested too deeply"
            raise InputError(where, f"cannot parse: {problem}") from None
        except ValueError:  # an integer form too long for Python to convert
            raise too_many_digits(where) from None
        check_text(data, where)
    if not isinstance(data, dict):
        raise InputError(where, "must be a mapping of run settings")
    build_config(data, where)
    return data
