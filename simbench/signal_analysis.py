"""Signal cases scored by a model: per-token hindsight advantages under no follow-up, an
unrelated one and a relevant one, written as JSON, HTML and PNG heatmaps.

The orchestration behind `simbench.signal` (and the CLI's `simbench signal`): checks every
input before the model loads, then hands the cases to `sdpo.signal` / `sdpo.signal_report`.
"""

from __future__ import annotations

import platform
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Optional

from sdpo import __version__ as sdpo_version
from sdpo.errors import SDPOError
from sdpo.hindsight import DEFAULT_HINDSIGHT_TEMPLATE
from sdpo.signal import analyse_cases, summarise
from sdpo.signal_report import write_report
from simbench.errors import InputError
from simbench.prompts import load_signal_cases
from simbench.runner.parts import load_model
from simbench.runner.preflight import check_device, check_model_available, check_out_dir

BUILTIN_CASES = "builtin:signal_cases"


def cases_ref(value: str) -> str:
    """`builtin` (or `builtin:signal_cases`) means the shipped cases; else a file path."""
    return BUILTIN_CASES if value.strip() == "builtin" else value


@dataclass(frozen=True)
class SignalAnalysis:
    """What `simbench.signal` measured and wrote: `summary` is `sdpo.signal.SignalSummary`,
    `paths` the written files (`sdpo.signal_report.SignalPaths`)."""

    cases: list[Any]
    summary: Any
    paths: Any


def analyse_signal(
    cases: str, model: str, out: Path, limit: Optional[int] = None, device: str = "cpu",
    on_case: Optional[Callable[[int, int, Any], None]] = None,
) -> SignalAnalysis:
    """Score the cases (`cases_ref`; the first `limit`) with `model` on `device` into `out`.
    `on_case(index, total, case)` hears each case as it is done."""
    selected = load_signal_cases(cases_ref(cases))
    if limit is not None:
        selected = selected[:limit]
    check_out_dir(out)
    check_device(device)
    check_model_available(model)
    started = time.perf_counter()
    policy, tokenizer = load_model(model, device)
    loaded = time.perf_counter()

    def heard(index: int, result: object) -> None:
        if on_case is not None:
            on_case(index, len(selected), selected[index])

    try:
        results = analyse_cases(policy, tokenizer, selected, DEFAULT_HINDSIGHT_TEMPLATE, on_case=heard)
    except SDPOError as exc:
        raise InputError(f"--model {model}: {exc.where}", exc.problem, exc.hint) from None
    summary = summarise(results)
    meta = {
        "model": model,
        "cases": cases_ref(cases),
        "case_count": len(results),
        "device": device,
        "hindsight_template": DEFAULT_HINDSIGHT_TEMPLATE,
        "sdpo_version": sdpo_version,
        "python": platform.python_version(),
        "load_seconds": round(loaded - started, 2),
        "analysis_seconds": round(time.perf_counter() - loaded, 2),
    }
    return SignalAnalysis(selected, summary, write_report(out, results, meta, summary))
