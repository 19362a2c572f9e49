"""What a run folder's logs must satisfy to be one run, written by one writer, in order.

`check_run_invariants` is a pure function of the manifest and the parsed records; readers
(metrics, reports, `--resume`) call it and refuse a folder on the first violation, so a
folder two processes wrote into (an interaction twice, update 0 twice, extra probes), or a
hand-edited log, is never scored as if it were a run. The rules follow from how the run
layer writes: batches in order, each batch's interactions turn by turn, one update per
batch at most, probes at batch ends.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping, Sequence

from simbench.errors import InputError

# Every JSONL log of a run folder (run.py writes them, resume.py checks them).
LOGS = ("interactions", "updates", "probes", "general", "signals", "drift")


@dataclass(frozen=True)
class Violation:
    """One broken rule: the log file, the record's position (1-based; 0: the whole file)."""

    log: str
    record: int
    problem: str

    def where(self, run_dir: Any = None) -> str:
        name = "manifest.json" if self.log == "manifest" else f"{self.log}.jsonl"
        path = f"{run_dir}/{name}" if run_dir is not None else name
        return f"{path}: record {self.record}" if self.record else path


def _get(record: Any, key: str, default: Any = None) -> Any:
    """A field of a record that is a dict (raw log line) or a pydantic record."""
    if isinstance(record, Mapping):
        return record.get(key, default)
    return getattr(record, key, default)


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def check_run_invariants(manifest: Mapping[str, Any], logs: Mapping[str, Sequence[Any]],
                         checkpoint_t: int | None = None) -> list[Violation]:
    """Every violation of the run-folder rules, in log order (first = the one to report).

    `checkpoint_t`: the logs were cut back to a checkpoint at interaction t, so they must
    hold exactly the records of t interactions (what `--resume` is about to continue from).
    """
    config = manifest.get("config")
    if not isinstance(config, Mapping):
        config = {}
    episode = _int(manifest.get("interactions"))
    turns = _int(config.get("turns")) or 1
    batch = _int(config.get("batch_size")) or 1
    out: list[Violation] = []
    done = _interactions(logs.get("interactions", ()), episode, turns, batch, out)
    complete_ts = done if not out else 0
    limit = checkpoint_t if checkpoint_t is not None else complete_ts
    update_ids = _updates(logs.get("updates", ()), limit, out)
    _timed(logs.get("probes", ()), "probes", "probe_id", limit, out)
    _timed(logs.get("general", ()), "general", "id", limit, out)
    _signals(logs.get("signals", ()), update_ids, out)
    if checkpoint_t is not None and not out and done != checkpoint_t:
        out.append(Violation("interactions", 0, f"holds {done} interactions but the checkpoint is at t={checkpoint_t}"))
    if manifest.get("status") == "complete" and episode is not None and not out:
        _complete(manifest, logs, done, episode, out)
    return out


def _interactions(records: Sequence[Any], episode: int | None, turns: int, batch: int,
                  out: list[Violation]) -> int:
    """Checks the interaction log; returns how many interactions it holds in full."""
    seen: dict[tuple[int, int], int] = {}
    previous: tuple[int, int, int] | None = None
    turns_of: dict[int, int] = {}
    for number, record in enumerate(records, start=1):
        t, turn = _int(_get(record, "t")), _int(_get(record, "turn", 0))
        if t is None or turn is None or t < 0 or turn < 0:
            out.append(Violation("interactions", number, f"t and turn must be integers >= 0, got t={t!r} turn={turn!r}"))
            return 0
        if (t, turn) in seen:
            out.append(Violation("interactions", number,
                                 f"interaction t={t} turn {turn} appears twice (first at record {seen[(t, turn)]})"))
            return 0
        if episode is not None and t >= episode:
            out.append(Violation("interactions", number, f"t={t} is beyond the episode (interactions: {episode})"))
            return 0
        if turn >= turns:
            out.append(Violation("interactions", number, f"turn {turn} but the run has {turns} turn(s) per interaction"))
            return 0
        # Batches in order; within a batch every interaction's turn 0, then turn 1, ...
        key = (t // batch, turn, t)
        if previous is not None and key <= previous:
            out.append(Violation("interactions", number, f"t={t} turn {turn} is out of order (t must not go back)"))
            return 0
        previous, seen[(t, turn)] = key, number
        turns_of[t] = turns_of.get(t, 0) + 1
    ts = sorted(turns_of)
    if ts and ts != list(range(len(ts))):
        missing = next(i for i, t in enumerate(ts) if t != i)
        out.append(Violation("interactions", 0, f"interaction t={missing} is missing"))
        return 0
    return sum(1 for t in ts if turns_of[t] == turns)


def _updates(records: Sequence[Any], limit: int, out: list[Violation]) -> set[int]:
    ids: dict[int, int] = {}
    last_t = -1
    for number, record in enumerate(records, start=1):
        update, t = _int(_get(record, "update")), _int(_get(record, "t"))
        if update is None or t is None:
            out.append(Violation("updates", number, f"update and t must be integers, got update={update!r} t={t!r}"))
            break
        if update in ids:
            out.append(Violation("updates", number, f"update {update} appears twice (first at record {ids[update]})"))
            break
        if ids and update < max(ids):
            out.append(Violation("updates", number, f"update {update} comes after update {max(ids)}"))
            break
        if t <= last_t:
            out.append(Violation("updates", number, f"t={t} does not increase (previous update at t={last_t})"))
            break
        if t > limit:
            out.append(Violation("updates", number, f"update at t={t} but only {limit} interactions are logged"))
            break
        ids[update], last_t = number, t
    return set(ids)


def _timed(records: Sequence[Any], log: str, key: str, limit: int, out: list[Violation]) -> None:
    """Probe-like logs: (t, id) unique, t never goes back, nothing after the logged interactions."""
    seen: dict[tuple[int, str], int] = {}
    last_t = -1
    for number, record in enumerate(records, start=1):
        t, rid = _int(_get(record, "t")), _get(record, key)
        if t is None:
            out.append(Violation(log, number, f"t must be an integer, got {t!r}"))
            return
        if (t, str(rid)) in seen:
            out.append(Violation(log, number, f"{key} {rid!r} at t={t} appears twice (first at record {seen[(t, str(rid))]})"))
            return
        if t < last_t:
            out.append(Violation(log, number, f"t={t} comes after t={last_t} (t must not go back)"))
            return
        if t > limit:
            out.append(Violation(log, number, f"{log} at t={t} but only {limit} interactions are logged"))
            return
        seen[(t, str(rid))], last_t = number, t


def _signals(records: Sequence[Any], update_ids: set[int], out: list[Violation]) -> None:
    for number, record in enumerate(records, start=1):
        update = _int(_get(record, "update"))
        if update is None or update not in update_ids:
            out.append(Violation("signals", number, f"refers to update {update!r}, which updates.jsonl does not hold"))
            return


def _complete(manifest: Mapping[str, Any], logs: Mapping[str, Sequence[Any]], done: int, episode: int,
              out: list[Violation]) -> None:
    """A run marked complete holds every interaction and its final probe."""
    if done != episode:
        out.append(Violation("manifest", 0, f"status is complete but interactions.jsonl holds {done} of {episode} interactions"))
        return
    position = _int(manifest.get("position"))
    if position is not None and position != episode:
        out.append(Violation("manifest", 0, f"status is complete but position is {position}, not {episode}"))
        return
    probes = logs.get("probes", ())
    if probes and _int(_get(probes[-1], "t")) != episode:
        out.append(Violation("probes", 0, f"status is complete but the last probe is at t={_get(probes[-1], 't')}, not {episode}"))


def refuse_if_violated(violations: Sequence[Violation], run_dir: Any, hint: str | None = None) -> None:
    """Raise the first violation as one `InputError` line naming the file and record."""
    if violations:
        first = violations[0]
        raise InputError(first.where(run_dir), f"not a consistent run folder: {first.problem}",
                         hint or "was it written by two processes at once or edited by hand? rerun it into a new folder")
