"""Flag parsing for `pavilion simulate`: values, --set, --sweep, and the presets' loader."""

from __future__ import annotations

import pytest

from pavilion.errors import InputError
from pavilion.sim.cli import parse_sets, parse_sweeps, parse_value


def test_values_are_read_as_the_scenario_reads_them() -> None:
    assert parse_value("policy.max_waiting", "3") == 3 and isinstance(parse_value("policy.max_waiting", "3"), int)
    assert parse_value("workload.arrivals.rate_per_hour", "0.5") == 0.5
    assert parse_value("policy.name", "on-demand") == "on-demand"
    assert parse_value("name", "123") == "123"  # a text key keeps its text


def test_sweeps_keep_order() -> None:
    grid = parse_sweeps(["policy.name=pavilion,on-demand", "policy.max_waiting = 0, 1,2"])
    assert grid == {"policy.name": ["pavilion", "on-demand"], "policy.max_waiting": [0, 1, 2]}
    assert list(grid) == ["policy.name", "policy.max_waiting"]


@pytest.mark.parametrize(("flag", "needle"), [
    ("policy.max_waiting", "expected KEY=VALUE"),
    ("=1,2", "expected KEY=VALUE"),
    ("policy.max_waiting=", "expected KEY=VALUE"),
    ("policy.max_waiting=1,,2", "empty value"),
    ("policy.max_waiting=1,2,1", "repeated"),
])
def test_malformed_sweeps(flag: str, needle: str) -> None:
    with pytest.raises(InputError, match=needle):
        parse_sweeps([flag])


def test_a_key_swept_twice_is_refused() -> None:
    with pytest.raises(InputError, match="more than once"):
        parse_sweeps(["policy.max_waiting=1,2", "policy.max_waiting=3"])


def test_sets() -> None:
    assert parse_sets(["policy.max_waiting=2", "workload.arrivals.mode=per_slot"]) == {
        "policy.max_waiting": 2, "workload.arrivals.mode": "per_slot"}
    with pytest.raises(InputError, match="--set"):
        parse_sets(["policy.max_waiting"])
    with pytest.raises(InputError, match="more than once"):
        parse_sets(["a.b=1", "a.b=2"])
