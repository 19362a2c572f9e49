"""The JSON Schemas `simbench schema KIND` prints: a run folder's manifest and log lines, the
run settings, a run summary and a leaderboard.json, each from its pydantic model."""

from __future__ import annotations

from typing import Any

from simbench.config import RunConfig
from simbench.errors import InputError
from simbench.logs import schema
from simbench.metrics.run_summary import RunSummary
from simbench.registry import suggest
from simbench.reporting.leaderboard_schema import Leaderboard

KINDS = ("manifest", "config", "interaction", "update", "probe", "general", "signal", "summary", "leaderboard")


def json_schema(kind: str) -> dict[str, Any]:
    """The JSON Schema of `kind` (one of `KINDS`); an unknown kind is an `InputError`."""
    models = {
        "manifest": schema.Manifest, "config": RunConfig, "interaction": schema.InteractionRecord,
        "update": schema.UpdateLogRecord, "probe": schema.ProbeRecord,
        "general": schema.GeneralRecord, "signal": schema.SignalRecord,
        "summary": RunSummary, "leaderboard": Leaderboard,
    }
    if kind not in models:
        raise InputError("KIND", f"unknown schema {kind!r}", suggest(kind, list(KINDS)))
    return models[kind].model_json_schema()
