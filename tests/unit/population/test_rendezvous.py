"""The rendezvous: a batched call runs only when every live member waits, with rows in member
order whatever order threads arrive in; a member that leaves releases the others; a failed
call raises in every member that was in it."""

from __future__ import annotations

import threading
import time

import pytest

from simbench.population.rendezvous import Rendezvous


def _run_members(rendezvous, work, members):
    results, threads = {}, []
    for member in members:
        def target(m=member):
            try:
                results[m] = work(m)
            except Exception as exc:  # recorded for the assertions
                results[m] = exc
            finally:
                rendezvous.leave(m)
        threads.append(threading.Thread(target=target))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
        assert not thread.is_alive()
    return results


def test_one_call_serves_every_member_in_member_order_whatever_the_arrival_order():
    calls = []

    def double(group):
        calls.append(list(group.items()))
        return {m: 2 * v for m, v in group.items()}

    rendezvous = Rendezvous(range(3), {"double": double})

    def work(member):
        time.sleep(0.05 * (2 - member))  # member 2 arrives first, member 0 last
        return rendezvous.call(member, "double", member + 10)

    assert _run_members(rendezvous, work, range(3)) == {0: 20, 1: 22, 2: 24}
    assert calls == [[(0, 10), (1, 11), (2, 12)]]


def test_kinds_waiting_at_once_run_as_one_call_each_in_the_handlers_order():
    calls = []
    handlers = {kind: (lambda group, kind=kind: calls.append((kind, sorted(group))) or dict(group))
                for kind in ("generate", "update")}
    rendezvous = Rendezvous(range(3), handlers)
    kinds = {0: "update", 1: "generate", 2: "update"}
    _run_members(rendezvous, lambda m: rendezvous.call(m, kinds[m], m), range(3))
    assert calls == [("generate", [1]), ("update", [0, 2])]


def test_a_member_that_leaves_no_longer_holds_the_others_back():
    rendezvous = Rendezvous(range(3), {"echo": dict})

    def work(member):
        if member == 1:
            return "left"  # leaves without a call (a finished or failed member)
        return [rendezvous.call(member, "echo", f"{member}-{i}") for i in range(3)]

    results = _run_members(rendezvous, work, range(3))
    assert results == {0: ["0-0", "0-1", "0-2"], 1: "left", 2: ["2-0", "2-1", "2-2"]}


def test_a_failed_call_raises_in_every_member_it_served():
    def broken(group):
        raise RuntimeError("model exploded")

    rendezvous = Rendezvous(range(2), {"generate": broken})
    results = _run_members(rendezvous, lambda m: rendezvous.call(m, "generate", m), range(2))
    assert all(isinstance(r, RuntimeError) and str(r) == "model exploded" for r in results.values())


def test_unknown_kinds_and_members_that_left_are_refused():
    rendezvous = Rendezvous(range(2), {"echo": dict})
    with pytest.raises(ValueError, match="no batched call named 'other'"):
        rendezvous.call(0, "other", 1)
    rendezvous.leave(0)
    with pytest.raises(ValueError, match="member 0 has left"):
        rendezvous.call(0, "echo", 1)
    assert rendezvous.call(1, "echo", 5) == 5  # alone now: served at once
