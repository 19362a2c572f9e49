"""Collateral drift from drift.jsonl: how far the policy moved from the frozen model on fixed
texts it already handles at t=0 (runner/drift.py writes the records).

Per probe time: mean KL(frozen || policy) per token and mean |NLL(policy) - NLL(frozen)| over
the items, so harm shows whichever way the likelihood moves (a signed mean could cancel).
Runs made before drift.jsonl existed have no records: `collateral_drift(None)` says so.
"""

from __future__ import annotations

from typing import Any, Iterable, Mapping

import numpy as np

from simbench.errors import InputError
from simbench.metrics.curves import mean_finite

FIELDS = ("t", "id", "kind", "nll", "nll_frozen", "kl")


def collateral_drift(records: Iterable[Mapping[str, Any]] | None) -> dict[str, Any]:
    """{"measured", "t", "kl", "abs_nll_change", "nll", "nll_frozen", "items"} per probe time.

    A repeated (t, id) keeps the later record (a resumed run re-probes). `measured` is False,
    with empty lists, when there are no records (an older run folder).
    """
    latest: dict[tuple[int, str], Mapping[str, Any]] = {}
    for i, record in enumerate(records or []):
        missing = [key for key in FIELDS if key not in record]
        if missing:
            raise InputError(f"drift record {i}", f"lacks {missing}", f"each needs {', '.join(FIELDS)}")
        latest[(int(record["t"]), str(record["id"]))] = record
    times = sorted({t for t, _ in latest})
    if not times:
        return {"measured": False, "t": [], "kl": [], "abs_nll_change": [], "nll": [], "nll_frozen": [],
                "items": 0}

    def per_time(value: Any, *keys: str) -> list[float]:
        """Mean of value(record) at each time over records whose `keys` are finite numbers
        (the scorer writes null for a non-finite score); NaN where none is."""
        return [mean_finite([value(r) if all(r[k] is not None for k in keys) else np.nan
                             for (t, _), r in latest.items() if t == time]) for time in times]

    return {
        "measured": True,
        "t": times,
        "kl": per_time(lambda r: float(r["kl"]), "kl"),
        "abs_nll_change": per_time(lambda r: abs(float(r["nll"]) - float(r["nll_frozen"])), "nll", "nll_frozen"),
        "nll": per_time(lambda r: float(r["nll"]), "nll"),
        "nll_frozen": per_time(lambda r: float(r["nll_frozen"]), "nll_frozen"),
        "items": len({rid for _, rid in latest}),
    }
