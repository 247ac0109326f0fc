"""The per-connection token bucket and the flood gate's reading of a packet's namespace."""

from __future__ import annotations

import pytest

from pavilion.runtime.worker.floodgate import namespace_of
from pavilion.runtime.worker.ratelimit import EventLimiter, Verdict


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_burst_then_the_refill_rate_and_one_warning_per_streak() -> None:
    clock = Clock()
    limiter = EventLimiter(burst=3, per_s=2.0, abuse_drops=100, clock=clock)
    assert [limiter.admit("a") for _ in range(5)] == [Verdict.ADMIT] * 3 + [Verdict.WARN, Verdict.DROP]
    assert limiter.admit("b") is Verdict.ADMIT  # buckets are per connection
    clock.now += 0.5  # one token back
    assert [limiter.admit("a"), limiter.admit("a")] == [Verdict.ADMIT, Verdict.WARN]  # a new streak warns again
    clock.now += 60
    assert [limiter.admit("a") for _ in range(3)] == [Verdict.ADMIT] * 3  # full again, never above the burst
    assert limiter.admit("a") is Verdict.WARN


def test_persistent_abuse_is_reported_once_and_drops_count_per_window() -> None:
    clock = Clock()
    limiter = EventLimiter(burst=1, per_s=0.001, abuse_drops=5, window_s=10, clock=clock)
    verdicts = [limiter.admit("a") for _ in range(8)]
    assert verdicts[:5] == [Verdict.ADMIT, Verdict.WARN, Verdict.DROP, Verdict.DROP, Verdict.DROP]
    assert verdicts[5] is Verdict.ABUSE and verdicts[6:] == [Verdict.DROP, Verdict.DROP]
    quiet = EventLimiter(burst=1, per_s=0.001, abuse_drops=5, window_s=10, clock=clock)
    for _ in range(4):
        quiet.admit("q")
        clock.now += 11  # drops spread over windows never add up to abuse
    assert quiet.dropped("q") <= 1
    limiter.forget("a")
    assert limiter.admit("a") is Verdict.ADMIT and limiter.dropped("a") == 0


def test_a_clock_going_backwards_never_takes_tokens() -> None:
    clock = Clock()
    limiter = EventLimiter(burst=2, per_s=1.0, clock=clock)
    limiter.admit("a")
    clock.now -= 50
    assert limiter.admit("a") is Verdict.ADMIT


@pytest.mark.parametrize("bad", [{"burst": 0}, {"per_s": 0}, {"abuse_drops": 0}, {"window_s": 0}])
def test_limits_must_be_positive(bad: dict[str, float]) -> None:
    with pytest.raises(ValueError, match="positive"):
        EventLimiter(**bad)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("data", "namespace"),
    [('2/worker,["heartbeat"]', "/worker"), ('21-/worker,["x"]', "/worker"), ('2["x"]', "/"), ("2/admin", "/admin"),
     ("0/worker,", "/worker"), (b"\x00", "/"), ("2x/worker,", "/"), ("", "/")],
)
def test_the_namespace_of_a_packet(data: object, namespace: str) -> None:
    assert namespace_of(data) == namespace
