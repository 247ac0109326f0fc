"""Project descriptions: every bad field is named; good ones become a ProjectSpec."""

from __future__ import annotations

from typing import Any

import pytest

from pavilion.runtime.errors import BadInput
from pavilion.runtime.projects import parse_project


def good(**changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "name": "s",
        "policy": {"name": "pavilion", "min_active": 1, "max_active": 2, "min_waiting": 0, "max_waiting": 1},
        "platform": {"name": "local", "roster": ["p1", "p2"]},
        "pay": {"reward": 0.5, "waiting_wage_per_hour": "7.25"},
        "task": {"title": "t", "url": "https://x.test"},
    }
    data.update(changes)
    return data


def test_a_good_project_parses() -> None:
    spec = parse_project(good())
    assert spec.queues.max_active == 2 and spec.platform_settings == {"roster": ["p1", "p2"]}
    assert spec.pay == {"reward": "0.5", "waiting_wage_per_hour": "7.25", "active_wage_per_hour": "0"}


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"name": 3}, "name must be a string"),
        ({"name": None}, "missing field 'name'"),
        ({"policy": "pavilion"}, "policy must be an object"),
        ({"policy": {"name": "pavilion", "max_active": 2}}, "missing field policy.min_active"),
        ({"policy": {"name": "pavilion", "min_active": "1", "max_active": 2}}, "policy.min_active must be an integer"),
        ({"policy": {"name": "pavilion", "min_active": 3, "max_active": 2}}, r"policy.max_active \(2\)"),
        ({"policy": {"name": "nope", "min_active": 1, "max_active": 2}}, "policy.name must be one of"),
        ({"platform": {"name": "ebay"}}, "platform.name must be one of"),
        ({"platform": {"name": "local", "roster": "p1"}}, "platform.roster"),
        ({"pay": {"reward": -1}}, "pay.reward must be between"),
        ({"pay": {"reward": True}}, "pay.reward must be a number"),
        ({"pay": {"tip": 1}}, "pay.tip is not a pay setting"),
        ({"task": {"url": "javascript:alert(1)"}}, "task.url"),
    ],
)
def test_bad_fields_are_named(changes: dict[str, Any], message: str) -> None:
    with pytest.raises(BadInput, match=message):
        parse_project(good(**changes))


def test_body_must_be_an_object() -> None:
    with pytest.raises(BadInput, match="JSON object"):
        parse_project([1, 2])
