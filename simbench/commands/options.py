"""The run-setting flags `simbench run` and `simbench sweep` share, defined once.

Each flag maps onto a `RunConfig` field of the same name (`RUN_FLAGS`); help texts read the
field's default from `run_defaults`, so `--help` cannot drift from what a run does. Fields
without a flag are listed in `FILE_ONLY` (set them with `--config`); a unit test checks that
the two together are exactly `RunConfig`'s fields. `run_flags(locals())` turns a command's
parameters into config values, and `settings_from` merges a `--config` file, the flags that
were given and the KEY=VALUE option lists, in that order.
"""

from __future__ import annotations

import functools
import inspect
from pathlib import Path
from typing import Annotated, Any, Optional

import typer

from simbench.errors import InputError
from simbench.run_defaults import default_of
from simbench.safe_load import check_text, parse_json
from simbench.seeding import MAX_SEED

MAX_BOOTSTRAP = 100_000
"""Most bootstrap resamples a command takes: memory and time grow with them, and 10**15 would
end in MemoryError; 100_000 is far past where a 95% interval stops moving."""
SEED_RANGE = {"min": 0, "max": MAX_SEED}
"""typer bounds of every seed flag (`typer.Option(0, **SEED_RANGE)`)."""
BOOTSTRAP_RANGE = {"min": 1, "max": MAX_BOOTSTRAP}
"""typer bounds of every bootstrap flag."""


def _setting(help_text: str, field: str | None = None) -> Any:
    suffix = f" (default: {default_of(field)})." if field else ""
    return typer.Option(help=help_text + suffix)


Model = Annotated[Optional[str], _setting("Policy model: a short name, a folder or a HF id", "model")]
User = Annotated[Optional[str], _setting("User simulator: rules | openai | local", "user")]
Backend = Annotated[Optional[str], _setting("Generation backend: hf | llama-cpp | vllm", "backend")]
Device = Annotated[Optional[str], _setting("Torch device", "device")]
Interactions = Annotated[Optional[int], _setting("Episode length (default: the persona's).")]
Turns = Annotated[Optional[int], _setting("User follow-ups per interaction", "turns")]
BatchSize = Annotated[Optional[int], _setting("Interactions per update", "batch_size")]
ProbeEvery = Annotated[Optional[int], _setting("Interactions between probes", "probe_every")]
ProbePrompts = Annotated[Optional[int], _setting("Held-out probe prompts per probe", "probe_prompts")]
ProbeDraw = Annotated[Optional[str], _setting("Probe prompts per run: shared (same set for every seed) | "
                                              "per-user (drawn with the run seed)", "probe_draw")]
GeneralQuestions = Annotated[
    Optional[int], _setting("General-capability questions per probe", "general_questions")
]
CheckpointEvery = Annotated[
    Optional[int], _setting("Interactions between checkpoints (default: --probe-every).")
]
MaxNewTokens = Annotated[Optional[int], _setting("Response length cap", "max_new_tokens")]
UserOptions = Annotated[Optional[list[str]], _setting("User option KEY=VALUE (repeatable).")]
Judge = Annotated[Optional[str], _setting("LLM judge for judge-scored preferences: openai (default: none, "
                                          "they are not scored)")]
JudgeOptions = Annotated[Optional[list[str]], _setting("Judge option KEY=VALUE (repeatable): base_url, model, ...")]
Precision = Annotated[Optional[str], _setting("Matmul path on CPU: fp32 (exact) | bf16 | auto (the faster, "
                                              "measured once per machine)", "precision")]
ConfigFile = Annotated[Optional[Path], _setting("YAML/JSON file of run settings (flags override it).")]


RUN_FLAGS = (
    "persona", "learner", "model", "user", "backend", "device", "interactions", "turns",
    "batch_size", "probe_every", "probe_prompts", "probe_draw", "general_questions", "checkpoint_every",
    "max_new_tokens", "seed", "judge", "precision", "feedback",
)
"""RunConfig fields with a flag of their own (`--batch-size` for batch_size, ...)."""
PLUGIN_FIELD = "plugins"
"""The RunConfig field the `--plugin` flag of every command fills (simbench/cli.py)."""
OPTION_FLAGS = {"learner_options": "learner_option", "user_options": "user_option", "judge_options": "judge_option"}
"""RunConfig dict fields and their repeatable KEY=VALUE flags."""
FILE_ONLY = ("generation_batch_size", "temperature", "top_p", "max_failed_updates")
"""RunConfig fields settable only through `--config FILE`."""


SHARED: tuple[tuple[str, Any], ...] = (
    ("model", Model), ("user", User), ("backend", Backend), ("device", Device),
    ("interactions", Interactions), ("turns", Turns), ("batch_size", BatchSize),
    ("probe_every", ProbeEvery), ("probe_prompts", ProbePrompts), ("probe_draw", ProbeDraw),
    ("general_questions", GeneralQuestions),
    ("checkpoint_every", CheckpointEvery), ("max_new_tokens", MaxNewTokens), ("precision", Precision),
    ("learner_option", Annotated[Optional[list[str]], _setting("Learner option KEY=VALUE (repeatable).")]),
    ("user_option", UserOptions), ("judge", Judge), ("judge_option", JudgeOptions), ("config", ConfigFile),
)
"""The run-setting flags every run-making command takes, declared once (`with_run_settings`)."""


def with_run_settings(command: Any) -> Any:
    """A Typer command taking the SHARED flags too; `command` gets them merged as `settings`
    (the --config file, then the flags given, then the KEY=VALUE lists; see `settings_from`)
    and must declare `settings` as its last parameter."""
    signature = inspect.signature(command)
    own = [p for name, p in signature.parameters.items() if name != "settings"]
    shared = [inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=None, annotation=annotation)
              for name, annotation in SHARED]

    @functools.wraps(command)
    def wrapper(**kwargs: Any) -> Any:
        values = {name: kwargs.pop(name) for name, _ in SHARED}
        flags = run_flags({**kwargs, **values})
        settings = settings_from(values["config"], flags, values["learner_option"], values["user_option"],
                                 values["judge_option"])
        return command(**kwargs, settings=settings)

    wrapper.__signature__ = signature.replace(  # type: ignore[attr-defined]
        parameters=[p.replace(kind=inspect.Parameter.KEYWORD_ONLY) for p in own] + shared)
    wrapper.__annotations__ = {**{k: v for k, v in command.__annotations__.items() if k != "settings"},
                               **dict(SHARED)}
    return wrapper


def run_flags(parameters: dict[str, Any]) -> dict[str, Any]:
    """The RunConfig values among a command's parameters (`locals()`), by RUN_FLAGS."""
    return {name: parameters[name] for name in RUN_FLAGS if name in parameters}


def parse_options(pairs: list[str] | None, flag: str) -> dict[str, Any]:
    """KEY=VALUE pairs; values are parsed as JSON where possible (numbers, booleans), by the
    bounded parser: a value nested too deep, an over-long integer or text that is not valid
    Unicode (an escape, or undecodable bytes in the argument) is refused naming `flag KEY`."""
    options: dict[str, Any] = {}
    for pair in pairs or []:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise InputError(flag, f"expected KEY=VALUE, got {pair!r}")
        where = f"{flag} {key}"
        check_text({key: value}, where)
        try:
            options[key] = parse_json(value, where)
        except InputError as exc:
            if not exc.problem.startswith("malformed JSON"):
                raise
            options[key] = value  # not JSON: the plain text is the value
    return options


def judge_settings(judge: str | None, pairs: list[str] | None) -> dict[str, Any]:
    """The `--judge-option` values of a report command; options without `--judge` are refused."""
    if pairs and judge is None:
        raise InputError("--judge-option", "given without --judge", "add --judge openai, or drop the options")
    return parse_options(pairs, "--judge-option")


def settings_from(
    config: Path | None,
    flags: dict[str, Any],
    learner_option: list[str] | None = None,
    user_option: list[str] | None = None,
    judge_option: list[str] | None = None,
) -> dict[str, Any]:
    """RunConfig values: the --config file, overridden by every flag that was given."""
    from simbench.config import load_config_file

    values: dict[str, Any] = load_config_file(config) if config else {}
    values.update({k: v for k, v in flags.items() if v is not None})
    for key, pairs, flag in (("learner_options", learner_option, "--learner-option"),
                             ("user_options", user_option, "--user-option"),
                             ("judge_options", judge_option, "--judge-option")):
        if pairs:
            values[key] = {**values.get(key, {}), **parse_options(pairs, flag)}
    return values
