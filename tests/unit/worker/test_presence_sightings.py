"""What one process's presence writes for the others (sightings) and how it takes in theirs (observe)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from pavilion.runtime.worker.presence import Presence
from pavilion.runtime.worker.presence_table import Sighting

GRACE = 15.0


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


def test_open_sockets_are_written_as_alive_now_and_heartbeats_once_each() -> None:
    clock = Clock()
    presence = Presence(clock)
    presence.connected("s1", 1, "k1")
    presence.arrived(1, "k2")
    rows, gone = presence.sightings()
    assert rows == [Sighting("k1", 1, clock.now, 1), Sighting("k2", 1, clock.now, 0)] and gone == []
    clock.advance(5)
    rows, _ = presence.sightings()
    assert rows == [Sighting("k1", 1, clock.now, 1)]  # a live socket is refreshed every time; k2 said nothing new
    presence.heartbeat("k2")
    presence.disconnected("s1")
    rows, _ = presence.sightings()
    assert rows == [Sighting("k1", 1, clock.now, 0), Sighting("k2", 1, clock.now, 0)]
    assert presence.sightings() == ([], [])


def test_dropped_stints_are_gone_and_a_failed_write_is_kept_for_the_next() -> None:
    clock = Clock()
    presence = Presence(clock)
    presence.connected("s1", 1, "k1")
    presence.arrived(1, "k2")
    presence.sightings()
    presence.forget("k2")
    rows, gone = presence.sightings({"k2"})
    assert rows == [] and gone == ["k2"]
    presence.unsent(rows, gone)
    presence.heartbeat("k1")
    rows, gone = presence.sightings()
    assert [r.key for r in rows] == ["k1"] and gone == ["k2"]


def test_an_adopted_stint_is_never_written_but_lives_on_what_others_saw() -> None:
    clock = Clock()
    presence = Presence(clock)
    presence.adopt([(1, "elsewhere")], presence.mark())  # a worker whose socket is on another process
    assert presence.sightings() == ([], [])
    clock.advance(GRACE)
    assert presence.stale_keys(GRACE) == ["elsewhere"]
    presence.observe({"elsewhere": clock.now - timedelta(seconds=2)})
    assert presence.take_stale(GRACE) == []
    presence.observe({"elsewhere": clock.now - timedelta(seconds=60)})  # older news never moves it back
    clock.advance(GRACE - 2)
    assert presence.take_stale(GRACE) == [(1, "elsewhere")]


def test_a_stint_that_goes_stale_while_the_table_is_read_waits_for_the_next_pass() -> None:
    # Two processes, 2,000 workers: the sweep abandoned live workers of the other process that crossed the grace
    # during its (slow) read of the presence table, so their rows were never consulted.
    clock = Clock()
    presence = Presence(clock)
    presence.adopt([(1, "early"), (1, "late")], presence.mark())
    clock.advance(1)
    presence.adopt([(1, "early"), (1, "late")], presence.mark())
    presence.observe({"late": clock.now})  # "late" was seen a second after "early"
    clock.advance(GRACE - 1)
    candidates = presence.stale_keys(GRACE)
    assert candidates == ["early"]
    clock.advance(1.5)  # the read of the table takes this long; "late" crosses the grace meanwhile
    assert presence.take_stale(GRACE, among=candidates) == [(1, "early")]
    assert presence.get("late") is not None
    assert presence.take_stale(GRACE) == [(1, "late")]  # unrestricted, it would have been taken
