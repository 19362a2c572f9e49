"""`simbench teachability`: per built-in preference, whether a model can teach it to itself
(frozen adherence, reachability under the token cap, hindsight sensitivity, and a short
relevant-vs-unrelated SDPO micro-run with a paired interval); md + json + png.

A command of its own rather than a mode of `simbench signal`: signal scores given cases
without generating or training, while this generates, trains and reports per preference,
with flags (probes, micro-steps, token cap) that signal would have to ignore. Thin layer
over `simbench.teachability`; bad flags exit 2 before the model loads.
"""

from __future__ import annotations

import shlex
import sys
from typing import List, Optional

import typer

from simbench.commands.options import BOOTSTRAP_RANGE, SEED_RANGE
from simbench.run_defaults import MAX_BATCH, default_of


def teachability_command(
    out: str = typer.Option(..., help="Folder for teachability.md, teachability.json and teachability.png."),
    model: str = typer.Option(default_of("model"), help="Policy model: short name, local folder or cached HF id."),
    preferences: Optional[List[str]] = typer.Option(
        None, "--preferences", help="Built-in preference ids, comma-separated or the flag repeated (default: all)."),
    max_new_tokens: int = typer.Option(64, min=1, max=4096, help="Answer length cap (tokens) for every generation."),
    probes: int = typer.Option(16, help="Held-out probe prompts answered (greedy) per measurement."),
    micro_steps: int = typer.Option(2, help="SDPO updates per micro-run arm (relevant / unrelated)."),
    batch_size: int = typer.Option(4, min=1, max=MAX_BATCH, help="Interactions per micro-run update."),
    bootstrap: int = typer.Option(2000, **BOOTSTRAP_RANGE, help="Paired bootstrap resamples for the gap's interval."),
    seed: int = typer.Option(0, **SEED_RANGE, help="Seed of prompts order, sampling, LoRA init and bootstrap."),
    learner_option: Optional[List[str]] = typer.Option(
        None, "--learner-option", help="SDPO option KEY=VALUE for the micro-run, e.g. lr=1e-3 (repeatable)."),
    device: str = typer.Option(default_of("device"), help="Torch device."),
    quiet: bool = typer.Option(False, "--quiet", help="No progress display."),
) -> None:
    """Which preferences can MODEL teach itself? One row per preference, before a long run."""
    from simbench import api
    from simbench.commands.console import quiet_libraries
    from simbench.commands.display import UnitProgress
    from simbench.commands.options import parse_options
    from simbench.teaching.measure import TeachabilitySettings
    from simbench.teaching.run import all_preferences

    named = [pid.strip() for value in preferences or [] for pid in value.split(",")]
    options = parse_options(learner_option, "--learner-option")
    # The bar needs the unit count before the run starts: the settings the API will build.
    units = TeachabilitySettings(preferences=tuple(named or all_preferences()), micro_steps=micro_steps).units()
    command = shlex.join(["simbench", *sys.argv[1:]]) if sys.argv[1:2] == ["teachability"] else ""
    with UnitProgress("teachability", units, enabled=not quiet) as bar, quiet_libraries(quiet):
        rows, paths = api.teachability(
            model, out=out, preferences=named, max_new_tokens=max_new_tokens, probes=probes,
            micro_steps=micro_steps, batch_size=batch_size, bootstrap=bootstrap, seed=seed,
            learner_options=options, device=device, command=command, on_unit=bar.step)
    for row in rows:
        gap = row.micro.gap
        typer.echo(f"{row.preference}: frozen {row.frozen_adherence:.2f}, micro {row.micro.relevant_adherence:.2f} "
                   f"vs {row.micro.unrelated_adherence:.2f}, gap {gap.gap:+.2f} [{gap.low:+.2f}, {gap.high:+.2f}]: "
                   f"{row.verdict}")
    typer.echo(f"wrote {paths.markdown}, {paths.json} and {paths.plot}")


def register(app: typer.Typer) -> None:
    app.command("teachability")(teachability_command)
