"""CPU seconds a benchmark records beside its wall times (Linux /proc; nan elsewhere), so a
reader can tell a slow arm from a stalled one. The CPU's SIMD flags come from
`simbench.runner.provenance.cpu_flags`, the function run manifests use."""

from __future__ import annotations

import os
from pathlib import Path


def process_cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of process `pid` so far."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return float("nan")


def machine_cpu_seconds() -> float:
    """Busy CPU seconds of the whole machine so far (user+nice+system+irq+softirq)."""
    try:
        fields = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    except (OSError, ValueError, IndexError):
        return float("nan")
    user, nice, system, _idle, _iowait, irq, softirq = fields[:7]
    return (user + nice + system + irq + softirq) / os.sysconf("SC_CLK_TCK")
