"""Where member threads meet: a call blocks until every live member waits, then one batched
call per kind serves them all.

A member waits here at each generation and each update; members that are busy elsewhere
(talking to their user, scoring drift, writing files) hold the batch back until they arrive or
leave. Payloads are grouped by kind and ordered by member index, so what runs never depends
on which thread arrived first; the batched call runs in the thread of the last arrival while
the others wait, so at most one batched call touches the shared model at a time.
"""

from __future__ import annotations

import threading
from typing import Any, Callable, Iterable, Mapping

Handler = Callable[[dict[int, Any]], Mapping[int, Any]]
"""A batched call: member index -> payload in, member index -> result out."""


class Rendezvous:
    """The meeting point of members `members`; `handlers` maps each call kind to its batched
    call, run in the order given when several kinds are waiting at once."""

    def __init__(self, members: Iterable[int], handlers: Mapping[str, Handler]) -> None:
        self._handlers = dict(handlers)
        self._live = set(members)
        self._waiting: dict[int, tuple[str, Any]] = {}
        self._results: dict[int, tuple[bool, Any]] = {}
        self._changed = threading.Condition()

    def call(self, member: int, kind: str, payload: Any) -> Any:
        """`member`'s share of the next batched call of `kind`; raises what that call raised."""
        if kind not in self._handlers:
            raise ValueError(f"no batched call named {kind!r}")
        with self._changed:
            if member not in self._live:
                raise ValueError(f"member {member} has left the rendezvous")
            self._waiting[member] = (kind, payload)
            self._run_if_all_wait()
            while member not in self._results:
                self._changed.wait()
            ok, value = self._results.pop(member)
        if not ok:
            raise value
        return value

    def leave(self, member: int) -> None:
        """`member` is done (finished, stopped or failed): the others no longer wait for it."""
        with self._changed:
            self._live.discard(member)
            self._run_if_all_wait()

    def _run_if_all_wait(self) -> None:
        if not self._waiting or len(self._waiting) < len(self._live):
            return
        waiting, self._waiting = self._waiting, {}
        for kind, handler in self._handlers.items():
            group = {m: payload for m, (k, payload) in sorted(waiting.items()) if k == kind}
            if not group:
                continue
            try:
                results = handler(group)
                self._results.update({m: (True, results[m]) for m in group})
            except Exception as exc:  # every member of the failed call raises it in its own thread
                self._results.update({m: (False, exc) for m in group})
        self._changed.notify_all()
