"""Pure parts of the Prolific adapter: signatures, status mapping, the study draft, settings, error details."""

from __future__ import annotations

import math

import httpx
import pytest

from pavilion.runtime.platforms.base import PlatformAssignment, PlatformError, PlatformProject
from pavilion.runtime.platforms.prolific.adapter import ProlificPlatform
from pavilion.runtime.platforms.prolific.client import error_detail
from pavilion.runtime.platforms.prolific.reconcile import reconcile
from pavilion.runtime.platforms.prolific.study import (
    draft,
    generous_maximum_minutes,
    least_maximum_minutes,
    reward_pence,
)
from pavilion.runtime.platforms.prolific.webhooks import (
    Freshness,
    WebhookRejected,
    event_time,
    expected_signature,
    verify,
)

NOW = 1_800_000_000.0


def signed(body: bytes, secret: str = "s", stamp: float = NOW) -> dict[str, str]:
    text = str(int(stamp))
    return {
        "X-Prolific-Request-Signature": expected_signature(secret, text, body),
        "X-Prolific-Request-Timestamp": text,
    }


def test_a_good_signature_passes_and_any_change_fails() -> None:
    body = b'{"resource_id": "x", "event_type": "submission.status.change", "status": "RETURNED"}'
    verify("s", signed(body), body, NOW)
    with pytest.raises(WebhookRejected):
        verify("s", signed(body), body + b" ", NOW)
    with pytest.raises(WebhookRejected):
        verify("other", signed(body), body, NOW)
    with pytest.raises(WebhookRejected, match="stale"):
        verify("s", signed(body, stamp=NOW - 301), body, NOW)
    with pytest.raises(WebhookRejected):
        verify("", signed(body), body, NOW)


def test_freshness_drops_older_events_of_the_same_resource() -> None:
    fresh = Freshness()
    assert fresh.fresh("a", 10.0) and fresh.fresh("a", 12.0)
    assert not fresh.fresh("a", 11.0)
    assert fresh.fresh("b", 1.0) and fresh.fresh("a", None)
    assert event_time("2027-01-15T08:00:00.000000Z") == pytest.approx(NOW)
    assert event_time("12.5") == 12.5 and event_time("junk") is None


@pytest.mark.parametrize(
    ("status", "how"),
    [
        ("RETURNED", "returned"),
        ("TIMED-OUT", "abandoned"),
        ("AWAITING REVIEW", "submitted"),
        ("APPROVED", "submitted"),
        ("ACTIVE", None),
        ("RESERVED", None),
    ],
)
def test_statuses_map_to_departures(status: str, how: str | None) -> None:
    present = [PlatformAssignment(key="k", worker_id="p", assignment_id="s1")]
    found = reconcile(7, present, [{"id": "s1", "status": status}, {"id": "s2", "status": "RETURNED"}])
    assert [d.how for d in found] == ([how] if how else [])
    if how:
        assert found[0].key == f"prolific:7:s1:{status}"


@pytest.mark.parametrize("estimate", [1, 10, 45, 200, 1000])
def test_the_maximum_time_is_generous_but_legal(estimate: int) -> None:
    maximum = generous_maximum_minutes(estimate)
    assert least_maximum_minutes(estimate) <= maximum < 24 * 60
    assert least_maximum_minutes(estimate) >= 2 + estimate + 2 * math.sqrt(estimate)


def test_rewards_are_whole_pence() -> None:
    assert reward_pence({"reward": "4.00"}) == 400
    for bad in ("0", "-1", "0.125", "abc"):
        with pytest.raises(PlatformError):
            reward_pence({"reward": bad})


def test_the_draft_carries_the_three_parameters_and_researcher_code() -> None:
    project = PlatformProject(
        id=5,
        name="n",
        settings={},
        state={},
        task={"title": "T"},
        pay={"reward": "0.50"},
        public_url="https://lab.example.org/",
    )
    settings = ProlificPlatform({}, {}).settings
    body = draft(project, settings, 4, "key1")
    assert body["external_study_url"] == (
        "https://lab.example.org/task/5?PROLIFIC_PID={{%PROLIFIC_PID%}}&STUDY_ID={{%STUDY_ID%}}"
        "&SESSION_ID={{%SESSION_ID%}}"
    )
    assert (body["reward"], body["total_available_places"], body["internal_name"]) == (50, 4, "pavilion-5-key1")
    assert {c["actor"] for c in body["completion_codes"]} == {"researcher", "participant"}
    with pytest.raises(PlatformError, match="PUBLIC_URL"):
        draft(PlatformProject(**{**project.__dict__, "public_url": ""}), settings, 1, "k")


@pytest.mark.parametrize(
    ("settings", "bad"),
    [
        ({"colour": "red"}, "colour"),
        ({"estimated_minutes": "10"}, "estimated_minutes"),
        ({"estimated_minutes": 30, "maximum_minutes": 31}, "maximum_minutes"),
        ({"fee_rate": "x"}, "fee_rate"),
        ({"webhooks": 1}, "webhooks"),
    ],
)
def test_bad_settings_name_the_key(settings: dict[str, object], bad: str) -> None:
    with pytest.raises(ValueError, match=bad):
        ProlificPlatform.validate_settings(settings)


def test_no_token_is_a_clear_permanent_error() -> None:
    with pytest.raises(PlatformError, match="PAVILION_PROLIFIC_TOKEN") as exc:
        _ = ProlificPlatform({}, {}).client
    assert not exc.value.transient


def test_error_detail_reads_both_shapes() -> None:
    both = [
        httpx.Response(400, json={"error": {"status": 400, "detail": {"reward": ["Must be an integer."]}}}),
        httpx.Response(400, json={"message": "Bad Request", "detail": "Study is not active"}),
        httpx.Response(502, text="<html>bad gateway</html>"),
    ]
    assert [error_detail(r) for r in both] == [
        "reward: Must be an integer.",
        "Study is not active",
        "<html>bad gateway</html>",
    ]
