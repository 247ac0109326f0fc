"""Real boto3 against the emulator over HTTP: every operation, paginators, error codes, retries, SQS delivery."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from botocore.exceptions import ClientError

from pavilion.emulators.mturk.clock import ManualClock
from pavilion.emulators.mturk.server import RunningEmulator

pytestmark = pytest.mark.timeout(60)

QUESTION = ('<ExternalQuestion xmlns="http://mechanicalturk.amazonaws.com/AWSMechanicalTurkDataSchemas/2006-07-14/'
            'ExternalQuestion.xsd"><ExternalURL>https://example.org/task/7</ExternalURL>'
            '<FrameHeight>0</FrameHeight></ExternalQuestion>')


def new_type(client: Any, title: str = "Live task (run R1)") -> str:
    return str(client.create_hit_type(Title=title, Description="d", Reward="0.40", AssignmentDurationInSeconds=600,
                                      AutoApprovalDelayInSeconds=3600)["HITTypeId"])


def new_hit(client: Any, type_id: str, n: int = 3, **kw: Any) -> dict[str, Any]:
    return dict(client.create_hit_with_hit_type(HITTypeId=type_id, MaxAssignments=n, LifetimeInSeconds=3600,
                                                Question=QUESTION, **kw)["HIT"])


def worker(emu: RunningEmulator, action: str, **body: Any) -> dict[str, Any]:
    response = httpx.post(f"{emu.url}/_emu/{action}", json=body, timeout=10)
    assert response.status_code == 200, response.text
    return dict(response.json())


def turk_code(exc: pytest.ExceptionInfo[ClientError]) -> str:
    return str(exc.value.response["TurkErrorCode"])


def test_round_trip_of_a_hit(emu: RunningEmulator, client: Any) -> None:
    hit = new_hit(client, new_type(client))
    assert hit["HITStatus"] == "Assignable" and hit["NumberOfAssignmentsAvailable"] == 3
    assert len(hit["HITId"]) == 30 and hit["HITGroupId"] == hit["HITTypeId"]
    accepted = worker(emu, "accept", hit_id=hit["HITId"], worker_id="A1WORKER")
    assert f"assignmentId={accepted['assignment_id']}" in accepted["url"]
    assert f"turkSubmitTo={emu.url.replace(':', '%3A').replace('/', '%2F')}" in accepted["url"]
    page = httpx.post(f"{emu.url}/mturk/externalSubmit", data={"assignmentId": accepted["assignment_id"], "x": "1"})
    assert page.status_code == 200
    assignments = client.list_assignments_for_hit(HITId=hit["HITId"])["Assignments"]
    assert [a["WorkerId"] for a in assignments] == ["A1WORKER"]
    assert assignments[0]["AssignmentStatus"] == "Submitted"
    got = client.get_assignment(AssignmentId=accepted["assignment_id"])
    assert got["HIT"]["HITId"] == hit["HITId"]
    client.approve_assignment(AssignmentId=accepted["assignment_id"])
    client.send_bonus(WorkerId="A1WORKER", AssignmentId=accepted["assignment_id"], BonusAmount="0.05",
                      Reason="waiting", UniqueRequestToken="bonus-1")
    bonuses = client.list_bonus_payments(AssignmentId=accepted["assignment_id"])["BonusPayments"]
    assert [b["BonusAmount"] for b in bonuses] == ["0.05"]
    balance = client.get_account_balance()
    # 10000 - (0.40 + 0.08) - (0.05 + 0.01), two remaining open slots on hold at 0.48 each
    assert balance == {**balance, "AvailableBalance": f"{10000 - 0.48 - 0.06 - 2 * 0.48:.2f}", "OnHoldBalance": "0.96"}


def test_paginators(client: Any, emu: RunningEmulator) -> None:
    type_id = new_type(client)
    created = [new_hit(client, type_id, n=1)["HITId"] for _ in range(7)]
    pages = list(client.get_paginator("list_hits").paginate(PaginationConfig={"PageSize": 3}))
    assert [h["HITId"] for p in pages for h in p["HITs"]] == created
    hit = new_hit(client, type_id, n=5)
    for i in range(5):
        a = worker(emu, "accept", hit_id=hit["HITId"], worker_id=f"AW{i}")
        httpx.post(f"{emu.url}/mturk/externalSubmit", data={"assignmentId": a["assignment_id"]})
    paginator = client.get_paginator("list_assignments_for_hit")
    listed = [a for p in paginator.paginate(HITId=hit["HITId"], PaginationConfig={"PageSize": 2})
              for a in p["Assignments"]]
    assert sorted(a["WorkerId"] for a in listed) == [f"AW{i}" for i in range(5)]


def test_error_codes_reach_boto3(client: Any, emu: RunningEmulator) -> None:
    with pytest.raises(client.exceptions.RequestError) as exc:
        client.get_hit(HITId="NOSUCHHIT")
    assert turk_code(exc) == "AWS.MechanicalTurk.HITDoesNotExist"
    assert exc.value.response["Error"]["Message"].startswith("Hit NOSUCHHIT does not exist. (")
    type_id = new_type(client)
    hit = new_hit(client, type_id, n=9, UniqueRequestToken="launch-1")
    with pytest.raises(client.exceptions.RequestError) as exc:
        client.create_additional_assignments_for_hit(HITId=hit["HITId"], NumberOfAdditionalAssignments=1)
    assert turk_code(exc) == "AWS.MechanicalTurk.InvalidMaximumAssignmentsIncrease"
    with pytest.raises(client.exceptions.RequestError) as exc:
        new_hit(client, type_id, n=9, UniqueRequestToken="launch-1")
    assert turk_code(exc) == "AWS.MechanicalTurk.HitAlreadyExists"
    with pytest.raises(client.exceptions.RequestError) as exc:
        client.approve_assignment(AssignmentId="NOSUCHASSIGNMENT")
    assert turk_code(exc) == "AWS.MechanicalTurk.AssignmentDoesNotExist"
    with pytest.raises(client.exceptions.RequestError) as exc:
        client.send_bonus(WorkerId="bad id", AssignmentId="X", BonusAmount="1", Reason="r")
    assert turk_code(exc) == "AWS.MechanicalTurk.InvalidParameterValue"
    with pytest.raises(client.exceptions.RequestError) as exc:
        client.delete_hit(HITId=hit["HITId"])
    assert turk_code(exc) == "AWS.MechanicalTurk.InvalidHITState"
    raw = httpx.post(emu.url, content=b"{}", headers={"X-Amz-Target": "MTurkRequesterServiceV20170117.Nope"})
    assert raw.status_code == 400 and raw.json()["__type"] == "UnknownOperationException"


def test_insufficient_funds(make_client: Any) -> None:
    from decimal import Decimal

    from pavilion.emulators.mturk.emulator import Emulator
    from pavilion.emulators.mturk.server import running_emulator

    with running_emulator(Emulator(ManualClock(), balance=Decimal("1.00"))) as emu:
        client = make_client(emu.url)
        with pytest.raises(client.exceptions.RequestError) as exc:
            new_hit(client, new_type(client), n=3)
        assert turk_code(exc) == "AWS.MechanicalTurk.InsufficientFunds"


def test_expire_and_delete(client: Any, emu: RunningEmulator) -> None:
    hit = new_hit(client, new_type(client), n=2)
    client.update_expiration_for_hit(HITId=hit["HITId"], ExpireAt=0)
    view = client.get_hit(HITId=hit["HITId"])["HIT"]
    assert (view["HITStatus"], view["NumberOfAssignmentsAvailable"]) == ("Reviewable", 0)
    assert view["Expiration"].timestamp() == pytest.approx(emu.emulator.clock.now())
    client.delete_hit(HITId=hit["HITId"])
    assert client.get_hit(HITId=hit["HITId"])["HIT"]["HITStatus"] == "Disposed"
    assert client.list_hits()["HITs"] == []


def test_retries_recover_from_faults_and_tokens_prevent_double_posting(client: Any, emu: RunningEmulator,
                                                                       make_client: Any) -> None:
    type_id = new_type(client)
    emu.emulator.inject("CreateHITWithHITType", "Throttling")
    assert new_hit(client, type_id, n=1)["HITStatus"] == "Assignable"  # botocore retried the throttle
    # The HIT is created but the answer is lost; the retry carries the same token and is refused as a duplicate.
    emu.emulator.inject("CreateHITWithHITType", "LostResponse")
    with pytest.raises(client.exceptions.RequestError) as exc:
        new_hit(client, type_id, n=1, UniqueRequestToken="hire-7")
    assert turk_code(exc) == "AWS.MechanicalTurk.HitAlreadyExists"
    assert len(client.list_hits()["HITs"]) == 2
    no_retry = make_client(emu.url, total_attempts=1)
    emu.emulator.inject("GetAccountBalance", "ServiceFault")
    with pytest.raises(no_retry.exceptions.ServiceFault):
        no_retry.get_account_balance()


def test_notify_workers_reaches_only_reviewed_workers(client: Any, emu: RunningEmulator) -> None:
    hit = new_hit(client, new_type(client), n=2)
    a = worker(emu, "accept", hit_id=hit["HITId"], worker_id="AREVIEWED")
    httpx.post(f"{emu.url}/mturk/externalSubmit", data={"assignmentId": a["assignment_id"]})
    client.approve_assignment(AssignmentId=a["assignment_id"])
    out = client.notify_workers(Subject="s", MessageText="m", WorkerIds=["AREVIEWED", "ASTRANGER"])
    assert [f["WorkerId"] for f in out["NotifyWorkersFailureStatuses"]] == ["ASTRANGER"]


def test_worker_side_preview_return_abandon(client: Any, emu: RunningEmulator, clock: ManualClock) -> None:
    hit = new_hit(client, new_type(client), n=1)
    preview = worker(emu, "preview", hit_id=hit["HITId"])["url"]
    assert "ASSIGNMENT_ID_NOT_AVAILABLE" in preview and "workerId" not in preview
    refused = httpx.post(f"{emu.url}/mturk/externalSubmit", data={"assignmentId": "ASSIGNMENT_ID_NOT_AVAILABLE"})
    assert refused.status_code == 400
    first = worker(emu, "accept", hit_id=hit["HITId"], worker_id="AFIRST")
    worker(emu, "return", assignment_id=first["assignment_id"])
    second = worker(emu, "accept", hit_id=hit["HITId"], worker_id="ASECOND")
    assert second["assignment_id"] == first["assignment_id"]
    advanced = httpx.post(f"{emu.url}/_emu/clock/advance", json={"seconds": 600}).json()
    assert advanced["now"] == clock.now()
    assert client.get_hit(HITId=hit["HITId"])["HIT"]["NumberOfAssignmentsPending"] == 0
    hits = httpx.get(f"{emu.url}/_emu/hits").json()
    assert [h["HITId"] for h in hits] == [hit["HITId"]]


def test_notifications_arrive_in_sqs(client: Any, emu: RunningEmulator, moto_server: str) -> None:
    import boto3

    sqs = boto3.client("sqs", region_name="us-east-1", endpoint_url=moto_server)
    queue_url = sqs.create_queue(QueueName="mturk-events")["QueueUrl"]
    type_id = new_type(client)
    client.update_notification_settings(HITTypeId=type_id, Active=True, Notification={
        "Destination": queue_url, "Transport": "SQS", "Version": "2006-05-05",
        "EventTypes": ["AssignmentAccepted", "AssignmentReturned", "AssignmentSubmitted", "HITExpired"]})
    client.send_test_event_notification(TestEventType="Ping", Notification={
        "Destination": queue_url, "Transport": "SQS", "Version": "2006-05-05", "EventTypes": ["Ping"]})
    hit = new_hit(client, type_id, n=2)
    a = worker(emu, "accept", hit_id=hit["HITId"], worker_id="A1")
    worker(emu, "return", assignment_id=a["assignment_id"])
    client.update_expiration_for_hit(HITId=hit["HITId"], ExpireAt=0)
    bodies = []
    while True:
        got = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=0)
        if not got.get("Messages"):
            break
        bodies += [json.loads(m["Body"]) for m in got["Messages"]]
    kinds = [e["EventType"] for b in bodies for e in b["Events"]]
    assert sorted(kinds) == sorted(["Ping", "AssignmentAccepted", "AssignmentReturned", "HITExpired"])
    assert all(b["EventDocVersion"] == "2006-05-05" and len(b["EventDocId"]) == 40 for b in bodies)


def test_chaos_and_fault_switches_over_http(emu: RunningEmulator) -> None:
    assert httpx.post(f"{emu.url}/_emu/chaos", json={"duplicate": 1.0, "batch": 2}).status_code == 200
    assert emu.emulator.dispatcher.chaos.duplicate == 1.0
    assert httpx.post(f"{emu.url}/_emu/chaos", json={"drop": 7}).status_code == 400
    assert httpx.post(f"{emu.url}/_emu/faults", json={"op": "GetHIT", "kind": "Nope"}).status_code == 400
    assert httpx.post(f"{emu.url}/_emu/accept", json={"hit_id": "NOSUCH", "worker_id": "A1"}).status_code == 400
