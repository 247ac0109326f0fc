"""The emulator's state machine against the MTurk facts in docs/reference: counters, status, reuse, money, errors."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from pavilion.emulators.mturk.clock import ManualClock
from pavilion.emulators.mturk.errors import MTurkError
from pavilion.emulators.mturk.fees import bonus_fee, reward_fee
from pavilion.emulators.mturk.state import MTurkModel

QUESTION = ('<ExternalQuestion xmlns="http://mechanicalturk.amazonaws.com/AWSMechanicalTurkDataSchemas/2006-07-14/'
            'ExternalQuestion.xsd"><ExternalURL>https://example.org/task/1?a=1&amp;b=2</ExternalURL>'
            '<FrameHeight>0</FrameHeight></ExternalQuestion>')


def hit_params(**over: Any) -> dict[str, Any]:
    base = {"Title": "Live task (run R1)", "Description": "d", "Reward": "0.50", "LifetimeInSeconds": 3600,
            "AssignmentDurationInSeconds": 600, "AutoApprovalDelayInSeconds": 86400, "MaxAssignments": 3,
            "Question": QUESTION}
    return base | over


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def model(clock: ManualClock) -> MTurkModel:
    return MTurkModel(clock)


def code_of(exc: pytest.ExceptionInfo[MTurkError]) -> str:
    return exc.value.code


def create(model: MTurkModel, **over: Any) -> dict[str, Any]:
    return model.call("CreateHIT", hit_params(**over))["HIT"]


def test_counters_and_status_follow_the_requester_guide(model: MTurkModel) -> None:
    # Guide example: 5 max, all accepted, 2 submitted -> Unassignable 0/3; one return -> Assignable 1/2.
    hit = create(model, MaxAssignments=5)
    ids = [model.accept(hit["HITId"], f"AW{i}").assignment_id for i in range(5)]
    for a in ids[:2]:
        model.submit({"assignmentId": a})
    view = model.call("GetHIT", {"HITId": hit["HITId"]})["HIT"]
    assert (view["HITStatus"], view["NumberOfAssignmentsAvailable"], view["NumberOfAssignmentsPending"]) == (
        "Unassignable", 0, 3)
    model.return_assignment(ids[4])
    view = model.call("GetHIT", {"HITId": hit["HITId"]})["HIT"]
    assert (view["HITStatus"], view["NumberOfAssignmentsAvailable"], view["NumberOfAssignmentsPending"]) == (
        "Assignable", 1, 2)


def test_returned_assignment_id_goes_to_the_next_worker(model: MTurkModel) -> None:
    hit = create(model, MaxAssignments=1)
    first = model.accept(hit["HITId"], "AFIRST")
    model.return_assignment(first.assignment_id)
    second = model.accept(hit["HITId"], "ASECOND")
    assert second.assignment_id == first.assignment_id
    assert second.worker_id == "ASECOND"


def test_abandon_at_the_deadline_reopens_the_slot(model: MTurkModel, clock: ManualClock) -> None:
    hit = create(model, MaxAssignments=1, AssignmentDurationInSeconds=60)
    a = model.accept(hit["HITId"], "AW1")
    clock.advance(59)
    model.tick()
    assert model.status(model.hits[hit["HITId"]]) == "Unassignable"
    clock.advance(1)
    model.tick()
    assert model.status(model.hits[hit["HITId"]]) == "Assignable"
    with pytest.raises(MTurkError) as exc:
        model.submit({"assignmentId": a.assignment_id})
    assert code_of(exc) == "AssignmentDoesNotExist"


def test_in_progress_work_is_invisible_to_the_requester(model: MTurkModel) -> None:
    hit = create(model)
    a = model.accept(hit["HITId"], "AW1")
    assert model.call("ListAssignmentsForHIT", {"HITId": hit["HITId"]})["Assignments"] == []
    for op, params in [("GetAssignment", {"AssignmentId": a.assignment_id}),
                       ("ApproveAssignment", {"AssignmentId": a.assignment_id}),
                       ("SendBonus", {"AssignmentId": a.assignment_id, "WorkerId": "AW1", "BonusAmount": "0.10",
                                      "Reason": "r"})]:
        with pytest.raises(MTurkError) as exc:
            model.call(op, params)
        assert code_of(exc) == "AssignmentDoesNotExist", op


def test_ten_assignment_rule(model: MTurkModel) -> None:
    small = create(model, MaxAssignments=9)
    with pytest.raises(MTurkError) as exc:
        model.call("CreateAdditionalAssignmentsForHIT", {"HITId": small["HITId"], "NumberOfAdditionalAssignments": 1})
    assert code_of(exc) == "InvalidMaximumAssignmentsIncrease"
    large = create(model, MaxAssignments=10)
    model.call("CreateAdditionalAssignmentsForHIT", {"HITId": large["HITId"], "NumberOfAdditionalAssignments": 5})
    assert model.hits[large["HITId"]].max_assignments == 15


def test_duplicate_tokens(model: MTurkModel) -> None:
    hit = create(model, UniqueRequestToken="tok-1")
    with pytest.raises(MTurkError) as exc:
        create(model, UniqueRequestToken="tok-1")
    assert code_of(exc) == "HitAlreadyExists" and hit["HITId"] in exc.value.message
    assert len(model.hits) == 1
    a = model.accept(hit["HITId"], "AW1")
    model.submit({"assignmentId": a.assignment_id})
    bonus = {"AssignmentId": a.assignment_id, "WorkerId": "AW1", "BonusAmount": "0.25", "Reason": "waited",
             "UniqueRequestToken": "pay-1"}
    model.call("SendBonus", bonus)
    with pytest.raises(MTurkError) as exc:
        model.call("SendBonus", bonus)
    assert "has already been processed" in exc.value.message
    assert len(model.bonuses) == 1


def test_token_is_forgotten_after_24_hours(model: MTurkModel, clock: ManualClock) -> None:
    create(model, UniqueRequestToken="tok-1")
    clock.advance(24 * 3600)
    create(model, UniqueRequestToken="tok-1")
    assert len(model.hits) == 2


def test_approve_needs_submitted_and_charges_reward_plus_fee(model: MTurkModel) -> None:
    hit = create(model, Reward="0.50", MaxAssignments=2)
    a = model.accept(hit["HITId"], "AW1")
    model.submit({"assignmentId": a.assignment_id, "answer": "x"})
    before = model.balance
    model.call("ApproveAssignment", {"AssignmentId": a.assignment_id})
    assert before - model.balance == Decimal("0.60")
    with pytest.raises(MTurkError) as exc:
        model.call("ApproveAssignment", {"AssignmentId": a.assignment_id})
    assert code_of(exc) == "InvalidAssignmentState"
    with pytest.raises(MTurkError) as exc:
        model.call("RejectAssignment", {"AssignmentId": a.assignment_id, "RequesterFeedback": "no"})
    assert code_of(exc) == "InvalidAssignmentState"


def test_rejected_work_can_be_approved_only_with_override(model: MTurkModel) -> None:
    hit = create(model)
    a = model.accept(hit["HITId"], "AW1")
    model.submit({"assignmentId": a.assignment_id})
    model.call("RejectAssignment", {"AssignmentId": a.assignment_id, "RequesterFeedback": "blank"})
    with pytest.raises(MTurkError):
        model.call("ApproveAssignment", {"AssignmentId": a.assignment_id})
    model.call("ApproveAssignment", {"AssignmentId": a.assignment_id, "OverrideRejection": True})
    assert model.assignments[a.assignment_id].status == "Approved"


def test_fees() -> None:
    assert reward_fee(Decimal("1.00"), 9) == Decimal("0.20")
    assert reward_fee(Decimal("1.00"), 10) == Decimal("0.40")
    assert reward_fee(Decimal("0.01"), 1) == Decimal("0.01")  # minimum one cent
    assert reward_fee(Decimal("0.125"), 1) == Decimal("0.03")  # 0.025 rounds half up
    assert bonus_fee(Decimal("2.00")) == Decimal("0.40")


def test_bonus_must_match_worker_and_balance(clock: ManualClock) -> None:
    model = MTurkModel(clock, balance=Decimal("1.20"))
    hit = create(model, Reward="1.00", MaxAssignments=1)  # exactly covers 1.00 + 0.20
    with pytest.raises(MTurkError) as exc:
        create(model, Reward="0.01", MaxAssignments=1)
    assert code_of(exc) == "InsufficientFunds"
    a = model.accept(hit["HITId"], "AW1")
    model.submit({"assignmentId": a.assignment_id})
    model.call("ApproveAssignment", {"AssignmentId": a.assignment_id})
    assert model.balance == Decimal("0.00")
    with pytest.raises(MTurkError) as exc:
        model.call("SendBonus", {"AssignmentId": a.assignment_id, "WorkerId": "AOTHER", "BonusAmount": "0.01",
                                 "Reason": "r"})
    assert code_of(exc) == "AssignmentDoesNotExist"
    with pytest.raises(MTurkError) as exc:
        model.call("SendBonus", {"AssignmentId": a.assignment_id, "WorkerId": "AW1", "BonusAmount": "0.01",
                                 "Reason": "r"})
    assert code_of(exc) == "InsufficientFunds"


def test_on_hold_balance_covers_open_slots(model: MTurkModel) -> None:
    create(model, Reward="1.00", MaxAssignments=3)
    balance = model.call("GetAccountBalance", {})
    assert balance == {"AvailableBalance": "9996.40", "OnHoldBalance": "3.60"}


def test_expire_now_and_reviewable_and_delete(model: MTurkModel, clock: ManualClock) -> None:
    hit = create(model, MaxAssignments=2)
    a = model.accept(hit["HITId"], "AW1")
    model.call("UpdateExpirationForHIT", {"HITId": hit["HITId"], "ExpireAt": 0})
    view = model.call("GetHIT", {"HITId": hit["HITId"]})["HIT"]
    assert (view["HITStatus"], view["NumberOfAssignmentsAvailable"]) == ("Unassignable", 0)
    with pytest.raises(MTurkError) as exc:
        model.call("DeleteHIT", {"HITId": hit["HITId"]})
    assert "'Unassignable'" in exc.value.message
    model.submit({"assignmentId": a.assignment_id})  # an accepted worker may still submit after expiry
    assert model.status(model.hits[hit["HITId"]]) == "Reviewable"
    with pytest.raises(MTurkError):
        model.call("DeleteHIT", {"HITId": hit["HITId"]})  # submitted work not yet reviewed
    model.call("ApproveAssignment", {"AssignmentId": a.assignment_id})
    model.call("DeleteHIT", {"HITId": hit["HITId"]})
    assert model.call("GetHIT", {"HITId": hit["HITId"]})["HIT"]["HITStatus"] == "Disposed"
    with pytest.raises(MTurkError) as exc:
        model.call("DeleteHIT", {"HITId": hit["HITId"]})
    assert "'Disposed'" in exc.value.message
    assert model.call("ListHITs", {})["HITs"] == []


def test_auto_approval(model: MTurkModel, clock: ManualClock) -> None:
    hit = create(model, AutoApprovalDelayInSeconds=100)
    a = model.accept(hit["HITId"], "AW1")
    model.submit({"assignmentId": a.assignment_id})
    clock.advance(100)
    model.tick()
    assert model.assignments[a.assignment_id].status == "Approved"
    immediate = create(model, AutoApprovalDelayInSeconds=0, Title="other")
    b = model.accept(immediate["HITId"], "AW1")
    assert model.submit({"assignmentId": b.assignment_id}).status == "Approved"


def test_unknown_ids_and_patterns(model: MTurkModel) -> None:
    with pytest.raises(MTurkError) as exc:
        model.call("GetHIT", {"HITId": "NOSUCHHIT"})
    assert code_of(exc) == "HITDoesNotExist" and "Hit NOSUCHHIT does not exist." in exc.value.message
    for bad in [{"HITId": "lower"}, {"HITId": "A B"}]:
        with pytest.raises(MTurkError) as exc:
            model.call("GetHIT", bad)
        assert code_of(exc) == "InvalidParameterValue"
    with pytest.raises(MTurkError) as exc:
        create(model, Reward="0.1000000001")
    assert code_of(exc) == "InvalidParameterValue"
    with pytest.raises(MTurkError) as exc:
        model.call("ListHITs", {"MaxResults": 500})
    assert code_of(exc) == "InvalidParameterValue"
    with pytest.raises(MTurkError) as exc:
        create(model, Question="<p>not a question</p>")
    assert code_of(exc) == "InvalidParameterValue"


def test_hit_types_are_shared_by_equal_attributes(model: MTurkModel) -> None:
    spec = {k: hit_params()[k] for k in ("Title", "Description", "Reward", "AssignmentDurationInSeconds")}
    first = model.call("CreateHITType", spec)["HITTypeId"]
    assert model.call("CreateHITType", spec)["HITTypeId"] == first
    assert model.call("CreateHITType", spec | {"Title": "run R2"})["HITTypeId"] != first


def test_notifications_only_for_active_spec_event_types(model: MTurkModel) -> None:
    hit = create(model, MaxAssignments=2)
    type_id = hit["HITTypeId"]
    spec = {"Destination": "https://q", "Transport": "SQS", "Version": "2006-05-05",
            "EventTypes": ["AssignmentAccepted", "AssignmentReturned", "AssignmentSubmitted"]}
    model.call("UpdateNotificationSettings", {"HITTypeId": type_id, "Notification": spec, "Active": True})
    a = model.accept(hit["HITId"], "AW1")
    model.return_assignment(a.assignment_id)
    model.call("UpdateExpirationForHIT", {"HITId": hit["HITId"], "ExpireAt": 0})  # HITExpired: not subscribed
    events = [n.event for n in model.drain()]
    assert [e["EventType"] for e in events] == ["AssignmentAccepted", "AssignmentReturned"]
    assert all("WorkerId" not in e and e["AssignmentId"] == a.assignment_id for e in events)
    model.call("UpdateNotificationSettings", {"HITTypeId": type_id, "Active": False})
    hit2 = create(model, MaxAssignments=2)
    model.accept(hit2["HITId"], "AW1")
    assert model.drain() == []


def test_notification_settings_validation(model: MTurkModel) -> None:
    type_id = create(model)["HITTypeId"]
    with pytest.raises(MTurkError):
        model.call("UpdateNotificationSettings", {"HITTypeId": type_id, "Active": True})  # no spec yet
    with pytest.raises(MTurkError):
        model.call("UpdateNotificationSettings", {"HITTypeId": type_id, "Notification": {
            "Destination": "x", "Transport": "Pigeon", "Version": "2006-05-05", "EventTypes": ["Ping"]}})


def test_external_submit_records_answers_and_refuses_preview(model: MTurkModel) -> None:
    hit = create(model)
    url = model.preview_url(hit["HITId"], "https://www.mturk.com")
    assert "assignmentId=ASSIGNMENT_ID_NOT_AVAILABLE" in url and "workerId" not in url and "a=1&b=2" in url
    with pytest.raises(MTurkError):
        model.submit({"assignmentId": "ASSIGNMENT_ID_NOT_AVAILABLE"})
    a = model.accept(hit["HITId"], "AW1")
    assert "workerId=AW1" in model.worker_url(a, "https://www.mturk.com")
    model.submit({"assignmentId": a.assignment_id, "hitId": hit["HITId"], "mood": "<ok>"})
    answer = model.assignments[a.assignment_id].answer or ""
    assert "<QuestionIdentifier>mood</QuestionIdentifier><FreeText>&lt;ok&gt;</FreeText>" in answer
    assert "hitId" not in answer


def test_a_worker_cannot_hold_two_assignments_of_one_hit(model: MTurkModel) -> None:
    hit = create(model, MaxAssignments=3)
    model.accept(hit["HITId"], "AW1")
    with pytest.raises(MTurkError):
        model.accept(hit["HITId"], "AW1")


def test_reviewable_and_lifecycle_events(model: MTurkModel) -> None:
    hit = create(model, MaxAssignments=1)
    model.call("UpdateNotificationSettings", {"HITTypeId": hit["HITTypeId"], "Notification": {
        "Destination": "q", "Transport": "SQS", "Version": "2014-08-15",
        "EventTypes": ["AssignmentSubmitted", "AssignmentApproved", "HITReviewable", "HITDisposed"]}})
    a = model.accept(hit["HITId"], "AW1")
    model.submit({"assignmentId": a.assignment_id})
    model.call("ApproveAssignment", {"AssignmentId": a.assignment_id})
    model.call("DeleteHIT", {"HITId": hit["HITId"]})
    kinds = [n.event["EventType"] for n in model.drain()]
    assert kinds == ["AssignmentSubmitted", "HITReviewable", "AssignmentApproved", "HITDisposed"]


def test_deleted_hits_can_be_made_to_vanish(clock: ManualClock) -> None:
    model = MTurkModel(clock, disposed_visible=False)
    hit = create(model, MaxAssignments=1)
    model.call("UpdateExpirationForHIT", {"HITId": hit["HITId"], "ExpireAt": 0})
    model.call("DeleteHIT", {"HITId": hit["HITId"]})
    with pytest.raises(MTurkError) as exc:
        model.call("GetHIT", {"HITId": hit["HITId"]})
    assert code_of(exc) == "HITDoesNotExist"


def test_a_future_expiration_reopens_an_expired_hit(model: MTurkModel, clock: ManualClock) -> None:
    hit = create(model, MaxAssignments=2)
    model.call("UpdateExpirationForHIT", {"HITId": hit["HITId"], "ExpireAt": 0})
    assert model.status(model.hits[hit["HITId"]]) == "Reviewable"
    model.call("UpdateExpirationForHIT", {"HITId": hit["HITId"], "ExpireAt": clock.now() + 600})
    assert model.status(model.hits[hit["HITId"]]) == "Assignable"
