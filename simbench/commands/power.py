"""`simbench power RESULTS_DIR`: per specificity cell, the variance components of its pair
differences, the minimum detectable difference the folder achieves, and the users a target
MDD needs with one shared probe set or per-user probe draws. Reads the folder; writes nothing.
Thin layer over `simbench.api.power`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, List, Optional

import typer


def power_command(
    results_dir: Path = typer.Argument(..., help="A folder of run folders (the --out of `simbench sweep`)."),
    target_mdd: float = typer.Option(0.10, "--target-mdd", help="The minimum detectable difference to plan for."),
    probes: Optional[List[int]] = typer.Option(
        None, "--probes",
        help="Probe prompts per user to plan for (repeat the flag for several; default: the folder's own)."),
) -> None:
    """What RESULTS_DIR's specificity cells can detect, and the users x probes a target MDD needs."""
    from rich import box
    from rich.markup import escape
    from rich.table import Table

    from simbench import api
    from simbench.commands.console import make_console
    from simbench.reporting.format import fmt

    console = make_console()
    for cell in api.power(results_dir, target_mdd=target_mdd, probes=probes or ()):
        c = cell.components
        sigma_p = fmt(c.prompt ** 0.5, 3) if c.prompt is not None else "– (not separable)"
        table = Table(
            title=escape(f"specificity: {cell.learner} vs {cell.control} ({cell.scenario}, {cell.model})"),
            caption=escape(
                f"{c.users} users x {c.probes} probes per user ({cell.runs} run pairs); σ_u {fmt(c.user ** 0.5, 3)}, "
                f"σ_p {sigma_p}, σ_e {fmt(c.residual ** 0.5, 3)} ({c.method}); achieved MDD "
                f"{fmt(cell.achieved_mdd, 3)} (t over users, this prompt set), {fmt(cell.shared_set_mdd, 3)} "
                "counting prompt sampling; users needed: fewest with MDD <= target, t at users-1 df"),
            box=box.SIMPLE_HEAD,
        )
        for header in ("probes per user", f"users for MDD <= {cell.target:g}: shared prompt set",
                       "per-user prompt draws", "shared-set floor"):
            table.add_column(header, justify="right")
        for need in cell.needs:
            table.add_row(str(need.probes), _shared_users(need, cell.target),
                          str(need.per_user) if need.per_user is not None else "> 1000000",
                          fmt(need.shared_floor, 3))
        console.print(table)


def _shared_users(need: Any, target: float) -> str:
    if need.shared is not None:
        return str(need.shared)
    if need.shared_floor is None:
        return "unknown (no shared prompts)"
    return "unreachable (floor)" if need.shared_floor >= target else "> 1000000"


def register(app: typer.Typer) -> None:
    app.command("power")(power_command)
