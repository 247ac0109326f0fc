"""Presence and the abandon grace, on a clock moved by hand: no socket and no sign of life for the grace."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from pavilion.runtime.worker.presence import Presence

GRACE = 15.0


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


def test_a_page_that_never_connects_is_stale_after_the_grace() -> None:
    clock = Clock()
    presence = Presence(clock)
    presence.arrived(1, "k1")
    clock.advance(GRACE - 0.001)
    assert presence.take_stale(GRACE) == []
    clock.advance(0.001)
    assert presence.take_stale(GRACE) == [(1, "k1")]
    assert presence.take_stale(GRACE) == [] and presence.get("k1") is None  # reported once


def test_an_open_socket_is_never_stale() -> None:
    clock = Clock()
    presence = Presence(clock)
    presence.connected("sid1", 1, "k1")
    clock.advance(10 * GRACE)
    assert presence.take_stale(GRACE) == []


def test_the_grace_counts_from_the_disconnect_and_a_reconnect_within_it_keeps_the_place() -> None:
    clock = Clock()
    presence = Presence(clock)
    presence.connected("sid1", 1, "k1")
    clock.advance(100)
    presence.disconnected("sid1")
    clock.advance(GRACE - 1)
    presence.connected("sid2", 1, "k1")  # the reload's new socket
    clock.advance(GRACE * 3)
    assert presence.take_stale(GRACE) == []
    assert presence.disconnected("sid2") == "k1"
    clock.advance(GRACE)
    assert presence.take_stale(GRACE) == [(1, "k1")]


def test_a_heartbeat_restarts_the_grace_of_a_socketless_stint() -> None:
    clock = Clock()
    presence = Presence(clock)
    presence.arrived(2, "k")
    clock.advance(GRACE - 1)
    presence.heartbeat("k")
    clock.advance(GRACE - 1)
    assert presence.take_stale(GRACE) == []
    clock.advance(1)
    assert presence.take_stale(GRACE) == [(2, "k")]


def test_one_socket_closing_leaves_the_stint_present_while_another_is_open() -> None:
    clock = Clock()
    presence = Presence(clock)
    presence.connected("tab1", 1, "k")
    presence.connected("tab2", 1, "k")
    presence.disconnected("tab1")
    clock.advance(GRACE * 2)
    assert presence.take_stale(GRACE) == []


def test_adopt_tracks_stints_the_database_holds_and_drops_those_that_left() -> None:
    clock = Clock()
    presence = Presence(clock)
    presence.arrived(1, "gone")
    presence.connected("sid", 1, "connected-but-gone")
    mark = presence.mark()
    presence.arrived(1, "joined-during-the-read")
    presence.adopt([(1, "restored"), (2, "other")], mark)
    assert presence.get("gone") is None  # left through another source: no longer tracked
    assert presence.get("connected-but-gone") is not None  # its socket is still open
    assert presence.get("joined-during-the-read") is not None  # the read could not have seen it
    restored = presence.get("restored")
    assert restored is not None and restored.last_seen == clock.now and restored.project_id == 1
    clock.advance(GRACE)
    stale = sorted(presence.take_stale(GRACE))
    assert stale == [(1, "joined-during-the-read"), (1, "restored"), (2, "other")]


def test_forget_and_ready() -> None:
    clock = Clock()
    presence = Presence(clock)
    presence.connected("sid", 1, "k")
    presence.ready("k")
    seen = presence.get("k")
    assert seen is not None and seen.ready_at == clock.now and seen.sids == {"sid"}
    presence.forget("k")
    assert presence.get("k") is None and presence.disconnected("sid") is None
