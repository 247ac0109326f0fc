"""Flag parsing for `pavilion simulate`: values, --set, --sweep, and the presets' loader."""

from __future__ import annotations

import pytest

from pavilion.errors import InputError
from pavilion.sim.cli import parse_sets, parse_sweeps, parse_value


def test_values_become_numbers_where_they_are_numbers() -> None:
    assert parse_value("3") == 3 and isinstance(parse_value("3"), int)
    assert parse_value("0.5") == 0.5
    assert parse_value("on-demand") == "on-demand"


def test_non_finite_numbers_are_refused() -> None:
    with pytest.raises(InputError, match="'nan'"):
        parse_value("nan")


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
