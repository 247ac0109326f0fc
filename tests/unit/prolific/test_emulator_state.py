"""The emulator's state machines, without HTTP: studies, places, timeouts, completion, review, bonuses."""

from __future__ import annotations

import base64
import hashlib
import hmac
from decimal import Decimal
from typing import Any

import pytest

from pavilion.emulators.prolific import model as m
from pavilion.emulators.prolific.clock import ManualClock
from pavilion.emulators.prolific.errors import ApiError
from pavilion.emulators.prolific.hooks import sign
from pavilion.emulators.prolific.payments import pay_bonus, setup_bonus
from pavilion.emulators.prolific.state import EmulatorState

CODES = [
    {"code": "DONE", "code_type": "COMPLETED", "actor": "researcher", "actions": [{"action": "MANUALLY_REVIEW"}]},
    {"code": "AUTO", "code_type": "OTHER", "actor": "researcher", "actions": [{"action": "AUTOMATICALLY_APPROVE"}]},
    {"code": "PART", "code_type": "COMPLETED", "actor": "participant", "actions": [{"action": "MANUALLY_REVIEW"}]},
]


def draft(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": "Live study",
        "description": "A real-time task",
        "external_study_url": "https://example.org/task/1?PROLIFIC_PID={{%PROLIFIC_PID%}}",
        "prolific_id_option": "url_parameters",
        "completion_codes": [dict(c) for c in CODES],
        "total_available_places": 2,
        "estimated_completion_time": 20,
        "maximum_allowed_time": 120,
        "reward": 300,
    }
    body.update(overrides)
    return body


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(start=1_800_000_000.0)


@pytest.fixture
def st(clock: ManualClock) -> EmulatorState:
    return EmulatorState(clock, seed=3)


def published(st: EmulatorState, **overrides: Any) -> m.Study:
    study = st.create_study(draft(**overrides))
    st.transition_study(study.id, "PUBLISH")
    return study


def detail_keys(exc: pytest.ExceptionInfo[ApiError]) -> set[str]:
    detail = exc.value.detail
    assert isinstance(detail, dict)
    return set(detail)


@pytest.mark.parametrize(
    ("override", "field"),
    [
        ({"reward": 2.5}, "reward"),
        ({"reward": None}, "reward"),
        ({"maximum_allowed_time": 25}, "maximum_allowed_time"),  # 2 + 20 + 2*sqrt(20) = 30.9
        ({"maximum_allowed_time": 24 * 60}, "maximum_allowed_time"),
        ({"external_study_url": "not a url"}, "external_study_url"),
        (
            {
                "completion_codes": [
                    {
                        "code": "X",
                        "code_type": "COMPLETED",
                        "actions": [{"action": "AUTOMATICALLY_APPROVE"}, {"action": "MANUALLY_REVIEW"}],
                    }
                ]
            },
            "completion_codes",
        ),
    ],
)
def test_bad_drafts_are_refused_naming_the_field(st: EmulatorState, override: dict[str, Any], field: str) -> None:
    with pytest.raises(ApiError) as exc:
        st.create_study(draft(**override))
    assert exc.value.status == 400
    assert field in detail_keys(exc)


def test_ids_are_24_hex_digits(st: EmulatorState) -> None:
    study = st.create_study(draft())
    assert len(study.id) == 24
    int(study.id, 16)


def test_publish_fill_and_resume_with_more_places(st: EmulatorState) -> None:
    study = published(st)
    assert study.status == m.ACTIVE
    st.reserve(study.id)
    st.reserve(study.id)
    assert study.status == m.AWAITING_REVIEW  # full
    with pytest.raises(ApiError):
        st.reserve(study.id)
    st.patch_study(study.id, {"total_available_places": 3})
    assert study.status == m.ACTIVE
    assert st.reserve(study.id).status == m.RESERVED


def test_places_only_go_up_and_other_fields_freeze_after_publish(st: EmulatorState) -> None:
    study = published(st)
    with pytest.raises(ApiError) as exc:
        st.patch_study(study.id, {"total_available_places": 1})
    assert "total_available_places" in detail_keys(exc)
    with pytest.raises(ApiError) as exc:
        st.patch_study(study.id, {"reward": 900})
    assert "reward" in detail_keys(exc)
    st.patch_study(study.id, {"internal_name": "renamed", "total_available_places": 2})
    assert study.internal_name == "renamed"


def test_a_return_reopens_the_place_and_a_full_study_pauses(st: EmulatorState) -> None:
    study = published(st)
    first = st.reserve(study.id)
    st.participant_return(first.id)
    assert first.status == m.RETURNED
    assert st.places_taken(study) == 0 and study.status == m.ACTIVE
    a, b = st.reserve(study.id), st.reserve(study.id)
    assert study.status == m.AWAITING_REVIEW
    st.start(a.id)
    st.participant_return(a.id)
    assert study.status == m.PAUSED  # a full study that loses a place pauses and needs START
    st.transition_study(study.id, "START")
    assert study.status == m.ACTIVE
    assert b.status == m.RESERVED


def test_reservations_expire_after_ten_minutes(st: EmulatorState, clock: ManualClock) -> None:
    study = published(st)
    sub = st.reserve(study.id)
    clock.advance(m.RESERVATION_S - 1)
    assert st.submission(sub.id).status == m.RESERVED
    clock.advance(1)
    assert st.submission(sub.id).status == m.TIMED_OUT
    assert st.places_taken(study) == 0


def test_active_submissions_time_out_after_the_maximum_time(st: EmulatorState, clock: ManualClock) -> None:
    study = published(st)
    sub = st.start(st.reserve(study.id).id)
    clock.advance(60 * study.maximum_allowed_time - 1)
    assert st.submission(sub.id).status == m.ACTIVE
    clock.advance(1)
    assert st.submission(sub.id).status == m.TIMED_OUT


def test_researcher_complete_needs_a_researcher_code(st: EmulatorState) -> None:
    study = published(st)
    sub = st.start(st.reserve(study.id).id)
    with pytest.raises(ApiError):
        st.transition_submission(sub.id, {"action": "COMPLETE", "completion_code": "PART"})
    st.transition_submission(sub.id, {"action": "COMPLETE", "completion_code": "DONE"})
    assert sub.status == m.AWAITING_REVIEW and sub.entered_code == "DONE"
    other = st.start(st.reserve(study.id).id)
    st.transition_submission(other.id, {"action": "COMPLETE", "completion_code": "AUTO"})
    assert other.status == m.APPROVED


def test_a_timed_out_submission_can_still_be_completed(st: EmulatorState) -> None:
    study = published(st)
    sub = st.time_out(st.start(st.reserve(study.id).id).id)
    st.transition_submission(sub.id, {"action": "COMPLETE", "completion_code": "DONE"})
    assert sub.status == m.AWAITING_REVIEW


def test_approve_only_from_awaiting_review_and_rejections_need_reasons(st: EmulatorState) -> None:
    study = published(st)
    sub = st.start(st.reserve(study.id).id)
    with pytest.raises(ApiError):
        st.transition_submission(sub.id, {"action": "APPROVE"})
    st.participant_complete(sub.id, "PART")
    with pytest.raises(ApiError) as exc:
        st.transition_submission(sub.id, {"action": "REJECT", "message": "too short", "rejection_category": "OTHER"})
    assert "message" in detail_keys(exc)
    st.transition_submission(sub.id, {"action": "APPROVE"})
    assert sub.status == m.APPROVED


def test_approval_passes_through_processing(st: EmulatorState, clock: ManualClock) -> None:
    st.processing_s = 5.0
    study = published(st)
    sub = st.participant_complete(st.start(st.reserve(study.id).id).id, "PART")
    st.transition_submission(sub.id, {"action": "APPROVE"})
    assert st.submission(sub.id).status == m.PROCESSING
    clock.advance(5.0)
    assert st.submission(sub.id).status == m.APPROVED


def test_stop_is_final_and_the_study_completes_once_all_is_reviewed(st: EmulatorState) -> None:
    study = published(st)
    sub = st.start(st.reserve(study.id).id)
    st.transition_study(study.id, "STOP")
    assert study.status == m.AWAITING_REVIEW
    for action in ("START", "PUBLISH", "PAUSE", "STOP"):
        with pytest.raises(ApiError):
            st.transition_study(study.id, action)
    st.transition_submission(sub.id, {"action": "COMPLETE", "completion_code": "DONE"})
    assert study.status == m.AWAITING_REVIEW
    st.transition_submission(sub.id, {"action": "APPROVE"})
    assert study.status == m.COMPLETED


def test_status_changes_become_webhook_events(st: EmulatorState) -> None:
    study = published(st)
    sub = st.start(st.reserve(study.id).id)
    st.participant_return(sub.id)
    subs = [e.payload for e in st.outbox if e.event_type == "submission.status.change"]
    assert [p["status"] for p in subs] == [m.RESERVED, m.ACTIVE, m.RETURNED]
    assert all(p["resource_id"] == sub.id and p["participant_id"] == sub.participant_id for p in subs)
    assert len({e.id for e in st.outbox}) == len(st.outbox)


def test_bonus_setup_prices_in_cents_and_every_pay_call_pays_again(st: EmulatorState) -> None:
    study = published(st)
    sub = st.reserve(study.id, participant_id="p1")
    body = {"study_id": study.id, "csv_bonuses": f"p1,1.25\n{sub.id},0.10"}
    batch = setup_bonus(st, body, fee_rate=Decimal("0.25"), vat_rate=Decimal("0.2"))
    assert (batch.amount, batch.fees, batch.vat, batch.total_amount) == (135, 34, 7, 176)
    pay_bonus(st, batch.id)
    pay_bonus(st, batch.id)
    assert sub.bonus_payments == [125, 10, 125, 10]
    assert sum(p["cents"] for p in st.payments) == 270


@pytest.mark.parametrize("csv", ["stranger,1.00", "p1,1.005", "p1,-1", "p1", "p1,abc"])
def test_bad_bonus_lines_are_refused(st: EmulatorState, csv: str) -> None:
    study = published(st)
    st.reserve(study.id, participant_id="p1")
    with pytest.raises(ApiError) as exc:
        setup_bonus(st, {"study_id": study.id, "csv_bonuses": csv}, Decimal("0.3"), Decimal(0))
    assert exc.value.status == 400


def test_signature_is_base64_hmac_sha256_of_timestamp_and_raw_body() -> None:
    body = b'{"resource_id": "abc", "status": "RETURNED"}'
    expected = base64.b64encode(hmac.new(b"s3cret", b"1800000000" + body, hashlib.sha256).digest()).decode()
    assert sign("s3cret", "1800000000", body) == expected
    assert sign("s3cret", "1800000001", body) != expected


def test_status_filters_accept_underscores_and_any_case() -> None:
    assert m.normalise_status("awaiting_review") == m.AWAITING_REVIEW
    assert m.normalise_status("timed_out") == m.TIMED_OUT
