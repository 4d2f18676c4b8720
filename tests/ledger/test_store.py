"""The event store's contract, run against every backend: appends, transactions, concurrency,
the hash chain, locks. `fresh_ledger` is each backend and way of opening one (SQLite in memory
and in a file, PostgreSQL); `backend` those that several connections or processes share."""

from __future__ import annotations

import hashlib
import multiprocessing
import os
import socket
import uuid

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from release_ledger.ledger import (ConcurrentAppend, DuplicateKey, EventStore, Ledger,
                                   LedgerCorrupt, LockHeld, NewEvent, open_ledger)
from release_ledger.ledger.canonical import canonical


def test_append_assigns_gapless_seq_across_releases(fresh_ledger):
    """Global seq is gapless; release_seq counts within each release."""
    fresh_ledger.append("0.4.0", [NewEvent("A", {}), NewEvent("B", {})])
    fresh_ledger.append("0.5.0", [NewEvent("A", {})])
    rows = [(e.seq, e.release, e.release_seq) for e in fresh_ledger.events()]
    assert rows == [(1, "0.4.0", 1), (2, "0.4.0", 2), (3, "0.5.0", 1)]


def test_batch_is_all_or_nothing(fresh_ledger):
    """A batch with a duplicate idempotency key writes none of its events."""
    fresh_ledger.append("0.4.0", [NewEvent("A", {}, "k")])
    with pytest.raises(DuplicateKey, match="'k'"):
        fresh_ledger.append("0.4.0", [NewEvent("B", {}), NewEvent("C", {}, "k")])
    assert [e.type for e in fresh_ledger.events()] == ["A"]


def test_atomic_commits(fresh_ledger):
    """Two appends in one atomic block both land."""
    with fresh_ledger.atomic():
        fresh_ledger.append("0.4.0", [NewEvent("A", {})])
        fresh_ledger.append("0.4.0", [NewEvent("B", {})])
    assert fresh_ledger.count() == 2


def test_atomic_rolls_back(fresh_ledger):
    """An exception in an atomic block leaves nothing behind."""
    with pytest.raises(RuntimeError):
        with fresh_ledger.atomic():
            fresh_ledger.append("0.4.0", [NewEvent("A", {})])
            raise RuntimeError("boom")
    assert fresh_ledger.count() == 0


def test_nested_atomic_rolls_back_to_its_savepoint(fresh_ledger):
    """A failing nested block undoes only its own writes."""
    with fresh_ledger.atomic():
        fresh_ledger.append("0.4.0", [NewEvent("A", {})])
        with pytest.raises(RuntimeError):
            with fresh_ledger.atomic():
                fresh_ledger.append("0.4.0", [NewEvent("B", {})])
                raise RuntimeError("boom")
    assert [e.type for e in fresh_ledger.events()] == ["A"]


def test_stale_expected_seq_is_a_conflict(fresh_ledger):
    """Appending with an outdated release_seq is refused and writes nothing."""
    fresh_ledger.append("0.4.0", [NewEvent("A", {})], expected_release_seq=0)
    with pytest.raises(ConcurrentAppend, match="moved on"):
        fresh_ledger.append("0.4.0", [NewEvent("B", {})], expected_release_seq=0)
    assert fresh_ledger.count() == 1


def test_rolled_back_appends_leave_no_gap(fresh_ledger):
    """An append undone by its transaction costs no seq: the next event takes it."""
    fresh_ledger.append("0.4.0", [NewEvent("A", {})])
    with pytest.raises(RuntimeError):
        with fresh_ledger.atomic():
            fresh_ledger.append("0.4.0", [NewEvent("B", {})])
            raise RuntimeError("boom")
    fresh_ledger.append("0.4.0", [NewEvent("C", {})])
    assert [(e.seq, e.type) for e in fresh_ledger.events()] == [(1, "A"), (2, "C")]
    assert fresh_ledger.verify() is None


def test_events_are_append_only(backend):
    """The database itself refuses UPDATE and DELETE of an event, even through raw SQL."""
    backend.open().append("0.4.0", [NewEvent("A", {"x": 1})])
    conn = backend.raw()
    for sql in ("UPDATE events SET type = 'B'", "DELETE FROM events"):
        with pytest.raises(Exception, match="append-only"):
            conn.execute(sql)
    assert [e.type for e in backend.open().events()] == ["A"]


def test_hash_is_sha256_of_canonical_row(fresh_ledger):
    """The stored hash is sha256 over the canonical JSON of every other column."""
    [event] = fresh_ledger.append("0.4.0", [NewEvent("A", {"b": [1, "é"], "a": None}, "k")])
    row = {k: v for k, v in event.as_dict().items() if k != "hash"}
    row.update(idempotency_key=event.idempotency_key, prev_hash=event.prev_hash)
    assert hashlib.sha256(canonical(row).encode()).hexdigest() == event.hash


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner,
                                                               max_size=3),
    max_leaves=8)


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.dictionaries(st.text(max_size=8), _JSON, max_size=4), min_size=1, max_size=6))
def test_payloads_round_trip_and_chain_verifies(fresh_ledger, payloads):
    """Any JSON payload reads back equal, and the chain verifies."""
    release = uuid.uuid4().hex  # one ledger for every example: each writes its own release
    fresh_ledger.append(release, [NewEvent("A", p) for p in payloads])
    assert [e.payload for e in fresh_ledger.events(release)] == payloads
    assert fresh_ledger.verify() is None


@pytest.mark.parametrize("column,value", [("payload", '{"x":2}'), ("actor", "mallory@host"),
                                          ("at", "2020-01-01T00:00:00Z"), ("type", "B"),
                                          ("hash", "0" * 64), ("release", "9.9.9")])
def test_verify_names_the_changed_event(backend, column, value):
    """Changing any column of event 2 (the trigger switched off first) makes verify return 2."""
    ledger = backend.open()
    ledger.append("0.4.0", [NewEvent("A", {"x": 1}) for _ in range(3)])
    ledger.close()
    backend.tamper(f"UPDATE events SET {column} = '{value}' WHERE seq = 2")
    assert backend.open().verify() == 2


def test_corrupt_file_is_one_clear_error(tmp_path):
    """A file that is not SQLite gives LedgerCorrupt naming the file."""
    bad = tmp_path / "ledger.sqlite"
    bad.write_bytes(b"this is not a database" * 100)
    with pytest.raises(LedgerCorrupt, match="ledger.sqlite cannot be read"):
        Ledger.open(bad)


def test_truncated_file_is_one_clear_error(ledger_file):
    """A ledger cut in half gives LedgerCorrupt, not a traceback from sqlite3."""
    ledger = Ledger.open(ledger_file)
    ledger.append("0.4.0", [NewEvent("A", {"x": "y" * 5000}) for _ in range(50)])
    ledger.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    ledger.close()
    data = ledger_file.read_bytes()
    ledger_file.write_bytes(data[: len(data) // 2])
    with pytest.raises(LedgerCorrupt):
        opened = Ledger.open(ledger_file)
        list(opened.events())
        assert opened.verify() is None


def test_lock_names_its_holder(backend):
    """While another live process holds the lock, taking it raises LockHeld naming pid and host."""
    holder = backend.hold_lock("0.4.0")
    try:
        with pytest.raises(LockHeld, match=rf"release 0\.4\.0 is locked by pid {holder.pid} on "
                                           rf"{socket.gethostname()} since \S+Z"):
            with backend.open().lock("0.4.0"):
                pass
    finally:
        holder.kill()
        holder.wait()


def test_lock_of_a_killed_process_is_taken_over(backend):
    """A holder killed with SIGKILL no longer blocks anyone: the next taker gets the lock."""
    holder = backend.hold_lock("0.4.0")
    holder.kill()
    holder.wait()
    ledger = backend.open()
    with ledger.lock("0.4.0") as me:
        assert ledger.holder("0.4.0").pid == me.pid == os.getpid()
    assert ledger.holder("0.4.0") is None


def test_lock_of_another_release_does_not_block(backend):
    """Holding one release's lock leaves every other release free."""
    holder = backend.hold_lock("0.4.0")
    try:
        with backend.open().lock("0.5.0") as me:
            assert me.release == "0.5.0"
    finally:
        holder.kill()
        holder.wait()


def _appender(target, worker, n, results):
    ledger = open_ledger(target)
    conflicts = 0
    for i in range(n):
        last = ledger.last("0.4.0")
        try:
            ledger.append("0.4.0", [NewEvent("W", {"worker": worker, "i": i}),
                                    NewEvent("W2", {"worker": worker, "i": i})],
                          expected_release_seq=last.release_seq if last else 0)
        except ConcurrentAppend:
            conflicts += 1
    results.put(conflicts)


def test_concurrent_appenders_never_interleave_a_batch(backend):
    """Two processes appending at once: batches stay whole, seqs stay gapless, losers conflict."""
    backend.open().close()
    results = multiprocessing.Queue()
    procs = [multiprocessing.Process(target=_appender, args=(backend.target, w, 150, results))
             for w in range(2)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
    conflicts = results.get() + results.get()
    ledger = backend.open()
    events = list(ledger.events())
    assert [e.seq for e in events] == list(range(1, len(events) + 1))
    assert [e.release_seq for e in events] == list(range(1, len(events) + 1))
    for first, second in zip(events[::2], events[1::2]):
        assert (first.type, second.type) == ("W", "W2")
        assert first.payload == second.payload
    assert len(events) // 2 + conflicts == 300
    assert ledger.verify() is None


def _blind_appender(target, worker, n):
    ledger = open_ledger(target)
    for i in range(n):
        ledger.append(f"1.{worker}.0", [NewEvent("W", {"i": i})])


def test_concurrent_releases_share_one_gapless_seq(backend):
    """Three processes appending to three releases: the global seq has no gap and no repeat."""
    backend.open().close()
    procs = [multiprocessing.Process(target=_blind_appender, args=(backend.target, w, 100))
             for w in range(3)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
    ledger = backend.open()
    assert [e.seq for e in ledger.events()] == list(range(1, 301))
    assert all([e.release_seq for e in ledger.events(f"1.{w}.0")] == list(range(1, 101))
               for w in range(3))
    assert ledger.verify() is None


def test_events_and_lock_holder_carry_the_clock_time(fresh_ledger):
    """Events and the lock's holder are stamped with the UTC clock as ISO-8601 with a Z."""
    from freezegun import freeze_time

    with freeze_time("2026-11-20T04:00:00Z"):
        [event] = fresh_ledger.append("0.4.0", [NewEvent("A", {})])
        with fresh_ledger.lock("0.4.0"):
            since = fresh_ledger.holder("0.4.0").since
    assert event.at == since == "2026-11-20T04:00:00.000000Z"


def test_every_backend_offers_the_whole_store_interface(fresh_ledger):
    """Every method of the EventStore protocol exists on each backend."""
    wanted = [name for name in vars(EventStore) if not name.startswith("_")
              and callable(getattr(EventStore, name))]
    assert wanted and all(callable(getattr(fresh_ledger, name)) for name in wanted)
    assert isinstance(fresh_ledger, EventStore)
