"""Pair the base model's and the preset's measurements into the preset's table and decision.

    python benchmarks/preset_table.py --folder results/preset-fr

reads base-in-context.json, fr-in-context.json, base-sdpo*.json, fr-sdpo*.json (those present)
written by benchmarks/preset_eval.py, and writes table-<preset>.md and .json beside them. Every
interval is a paired t-interval with the seed as the unit (over probes when there is one
seed; simbench.metrics.paired.paired_interval), clipped to the range the quantity can take,
with n and the minimum detectable difference at 80% power.

Decision rule (issue 9): **go** when, on at least one preference, SDPO's specificity
(relevant minus unrelated follow-ups, micro-run adherence) on the preset exceeds the base
model's with a paired interval excluding 0; otherwise **no-go**.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import numpy as np

from simbench.metrics.paired import DIFFERENCE, paired_interval
from simbench.preset.rewrites import HELD_OUT, TRAINED


def _load(folder: Path, name: str) -> dict[str, Any] | None:
    path = folder / f"{name}.json"
    return json.loads(path.read_text()) if path.is_file() else None


def _load_sdpo(folder: Path, name: str) -> dict[str, Any] | None:
    """The micro-runs of every `<name>*.json` (one file per preference or batch), merged."""
    parts = [json.loads(p.read_text()) for p in sorted(folder.glob(f"{name}*.json"))]
    if not parts:
        return None
    micro: dict[str, Any] = {}
    for part in parts:
        for pid, seeds in part["micro"].items():
            micro.setdefault(pid, {}).update(seeds)
    return {"micro": micro, "meta": [p["meta"] for p in parts]}


def _diff(a: list[bool], b: list[bool]) -> np.ndarray:
    return np.asarray(a, dtype=float) - np.asarray(b, dtype=float)


# A gain is a difference of two differences of pass rates, so it can run from -2 to 2.
GAIN = (-2.0, 2.0)


def _interval(groups: list[np.ndarray], bounds: tuple[float, float] = DIFFERENCE) -> dict[str, Any] | None:
    result = paired_interval(groups, bounds=bounds)
    return None if result is None else result.to_dict()


def _fmt(cell: dict[str, Any] | None) -> str:
    if cell is None:
        return "–"
    return f"{cell['mean']:+.2f} [{cell['lo']:+.2f}, {cell['hi']:+.2f}]"


def build(folder: Path, tag: str = "fr") -> dict[str, Any]:
    base, fr = _load(folder, "base-in-context"), _load(folder, f"{tag}-in-context")
    base_sdpo, fr_sdpo = _load_sdpo(folder, "base-sdpo"), _load_sdpo(folder, f"{tag}-sdpo")
    rows: dict[str, Any] = {}
    prefs = sorted(set((base or {}).get("read_relevant", {})) | set((base_sdpo or {}).get("micro", {})),
                   key=lambda p: ([*TRAINED, *HELD_OUT].index(p) if p in [*TRAINED, *HELD_OUT] else 99, p))
    for pid in prefs:
        row: dict[str, Any] = {"set": "trained" if pid in TRAINED else "held out"}
        if base and fr:
            row["frozen_base"] = float(np.mean(base["frozen"][pid]))
            row["frozen_fr"] = float(np.mean(fr["frozen"][pid]))
            row["leak"] = _interval([_diff(fr["frozen"][pid], base["frozen"][pid])])
            if pid in base["read_relevant"]:
                read = {k: _diff(m["read_relevant"][pid], m["read_unrelated"][pid]) for k, m in (("base", base), ("fr", fr))}
                row["read_base"] = _interval([read["base"]])
                row["read_fr"] = _interval([read["fr"]])
                row["read_gain"] = _interval([read["fr"] - read["base"]], GAIN)
                row["oracle_base"] = float(np.mean(base["oracle"][pid]))
                row["oracle_fr"] = float(np.mean(fr["oracle"][pid]))
        if base_sdpo and fr_sdpo and pid in base_sdpo["micro"] and pid in fr_sdpo["micro"]:
            seeds = sorted(set(base_sdpo["micro"][pid]) & set(fr_sdpo["micro"][pid]), key=int)
            spec = {k: [_diff(m["micro"][pid][s]["relevant"], m["micro"][pid][s]["unrelated"]) for s in seeds]
                    for k, m in (("base", base_sdpo), ("fr", fr_sdpo))}
            row["seeds"] = [int(s) for s in seeds]
            row["specificity_base"] = _interval(spec["base"])
            row["specificity_fr"] = _interval(spec["fr"])
            row["specificity_gain"] = _interval([f - b for f, b in zip(spec["fr"], spec["base"])], GAIN)
            row["relevant_fr"] = float(np.mean([np.mean(fr_sdpo["micro"][pid][s]["relevant"]) for s in seeds]))
            row["relevant_base"] = float(np.mean([np.mean(base_sdpo["micro"][pid][s]["relevant"]) for s in seeds]))
        rows[pid] = row
    leaks = {}
    if base and fr:
        for pid in sorted(base["frozen"]):
            leaks[pid] = _interval([_diff(fr["frozen"][pid], base["frozen"][pid])])
    general = None
    if base and fr:
        general = {"base": float(np.mean(base["general"])), "fr": float(np.mean(fr["general"])),
                   "n": len(base["general"]), "diff": _interval([_diff(fr["general"], base["general"])])}
    gains = [r["specificity_gain"] for r in rows.values() if r.get("specificity_gain")]
    decision = "go" if any(g["lo"] > 0 for g in gains) else ("no-go" if gains else "undecided")
    return {"rows": rows, "leak_all": leaks, "general": general, "decision": decision,
            "preset": tag,
            "meta": {name: (m or {}).get("meta") for name, m in
                     (("base-in-context", base), (f"{tag}-in-context", fr), ("base-sdpo", base_sdpo),
                      (f"{tag}-sdpo", fr_sdpo))}}


def markdown(table: dict[str, Any]) -> str:
    lines = ["| preference | set | frozen base / fr | leak | read base | read fr | read gain | oracle base / fr "
             "| SDPO spec. base | SDPO spec. fr | spec. gain (fr - base) |", "|" + "---|" * 11]
    for pid, r in table["rows"].items():
        frozen = f"{r['frozen_base']:.2f} / {r['frozen_fr']:.2f}" if "frozen_base" in r else "–"
        oracle = f"{r['oracle_base']:.2f} / {r['oracle_fr']:.2f}" if "oracle_base" in r else "–"
        lines.append(f"| `{pid}` | {r['set']} | {frozen} | {_fmt(r.get('leak'))} | {_fmt(r.get('read_base'))} | "
                     f"{_fmt(r.get('read_fr'))} | {_fmt(r.get('read_gain'))} | {oracle} | "
                     f"{_fmt(r.get('specificity_base'))} | {_fmt(r.get('specificity_fr'))} | "
                     f"{_fmt(r.get('specificity_gain'))} |")
    general = table["general"]
    if general:
        lines += ["", f"General questions (n = {general['n']}): base {general['base']:.2f}, preset {general['fr']:.2f}, "
                  f"difference {_fmt(general['diff'])}."]
    lines += ["", f"Decision: **{table['decision']}**."]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--folder", default="results/preset-fr")
    parser.add_argument("--preset", default="fr", help="file tag of the preset's measurements (fr: the shipped one)")
    args = parser.parse_args(argv)
    folder = Path(args.folder)
    table = build(folder, args.preset)
    (folder / f"table-{args.preset}.json").write_text(json.dumps(table, indent=1) + "\n")
    (folder / f"table-{args.preset}.md").write_text(markdown(table))
    print(markdown(table))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
