"""How a stint reads on the page: its state, and when 'leave and get paid' opens."""

from __future__ import annotations

from dataclasses import replace

import pytest

from pavilion.runtime.worker.stint import DEFAULT_MAX_WAITING_S, Stint, max_waiting_s

WAITING = Stint(
    project_id=1, project_name="p", project_status="live", key="k", queue="waiting", how_left=None, detail="",
    message={}, task_url="", task={}, pay={}, waited_s=30.0, max_waiting_s=60.0,
)


@pytest.mark.parametrize(
    ("changes", "state"),
    [
        ({}, "waiting"),
        ({"queue": "active"}, "active"),
        ({"project_status": "expired"}, "waiting"),  # expiry closes recruitment; those present carry on
        ({"project_status": "stopped"}, "stopped"),
        ({"queue": "", "how_left": "submitted"}, "stopped"),
        ({"queue": "", "how_left": "abandoned"}, "stopped"),
        ({"queue": "", "how_left": "rejected", "detail": "job_full"}, "rejected"),
    ],
)
def test_the_page_state_of_a_stint(changes: dict[str, object], state: str) -> None:
    assert replace(WAITING, **changes).page_state == state  # type: ignore[arg-type]


def test_leaving_with_pay_opens_after_the_project_waiting_time() -> None:
    assert WAITING.leave_in_s == 30.0
    assert replace(WAITING, waited_s=90.0).leave_in_s == 0.0


def test_the_waiting_time_comes_from_the_task_settings() -> None:
    assert max_waiting_s({"max_waiting_s": 0}) == 0.0
    assert max_waiting_s({"max_waiting_s": 45.5}) == 45.5
    assert max_waiting_s({}) == DEFAULT_MAX_WAITING_S
    assert max_waiting_s({"max_waiting_s": True}) == DEFAULT_MAX_WAITING_S  # not a number of seconds
