"""The MTurk adapter against the emulator over HTTP: hiring, identity, reconciliation, payments, notifications."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import httpx
import pytest

from pavilion.emulators.mturk.clock import ManualClock
from pavilion.emulators.mturk.server import RunningEmulator
from pavilion.runtime.platforms.base import (
    Identity,
    IdentityError,
    PaymentOrder,
    PlatformAssignment,
    PlatformError,
    PlatformProject,
    Preview,
)
from pavilion.runtime.platforms.mturk.adapter import MTurkPlatform
from pavilion.runtime.platforms.mturk.consumer import project_of
from pavilion.runtime.platforms.mturk.notifications import PlatformEvent, drain_queue

pytestmark = pytest.mark.timeout(60)


def project(**over: Any) -> PlatformProject:
    base = PlatformProject(id=1, name="Demo", settings={}, state={}, task={"title": "Chat", "description": "d"},
                           pay={"reward": "0.50"}, public_url="http://127.0.0.1:5000")
    return dataclasses.replace(base, **over)


@pytest.fixture
def adapter(emu: RunningEmulator) -> MTurkPlatform:
    return MTurkPlatform({"endpoint": emu.url, "assignment_duration_s": 600}, {})


def accept(emu: RunningEmulator, hit_id: str, worker: str) -> dict[str, Any]:
    got = httpx.post(f"{emu.url}/_emu/accept", json={"hit_id": hit_id, "worker_id": worker}).json()
    assert "assignment_id" in got, got
    return dict(got)


def submit(emu: RunningEmulator, assignment_id: str) -> None:
    assert httpx.post(f"{emu.url}/mturk/externalSubmit", data={"assignmentId": assignment_id}).status_code == 200


def arrive(adapter: MTurkPlatform, p: PlatformProject, a: dict[str, Any]) -> PlatformAssignment:
    args = dict(httpx.URL(a["url"]).params)
    identity = adapter.identify(p, args)
    assert isinstance(identity, Identity)
    return PlatformAssignment(f"k-{a['assignment_id']}-{identity.worker_id}", identity.worker_id,
                              identity.assignment_id, dict(identity.extra))


def test_hire_posts_hits_of_at_most_nine_under_one_type(adapter: MTurkPlatform, emu: RunningEmulator) -> None:
    state = adapter.hire(project(), 20, "hire-1")
    assert state is not None
    hits = [emu.emulator.model.hits[h] for h in state["hits"]]
    assert [h.max_assignments for h in hits] == [9, 9, 2]
    assert {h.hit_type_id for h in hits} == {state["hit_type_id"]}
    assert emu.emulator.model.hit_types[state["hit_type_id"]].title == "Chat"  # the researcher's title, no suffix
    assert all(h.annotation and h.annotation.startswith(f"pavilion-{state['run_id']}:") for h in hits)
    assert adapter.hire(project(state=state), 20, "hire-1") is None  # the same outbox key is applied once
    more = adapter.hire(project(state=state), 1, "hire-2")
    assert more is not None and len(more["hits"]) == 4


def test_a_lost_response_never_double_posts(adapter: MTurkPlatform, emu: RunningEmulator) -> None:
    state = adapter.hire(project(), 2, "hire-1")
    assert state is not None
    # MTurk creates the HIT but the answer is lost; botocore retries with the same token and we recover the id.
    emu.emulator.inject("CreateHITWithHITType", "LostResponse")
    after = adapter.hire(project(state=state), 3, "hire-2")
    assert after is not None and len(after["hits"]) == 2 and len(emu.emulator.model.hits) == 2
    # A crash before the new state was saved: the outbox runs hire-2 again from the old state.
    again = adapter.hire(project(state=state), 3, "hire-2")
    assert again is not None and again["hits"] == after["hits"] and len(emu.emulator.model.hits) == 2
    # MTurk unreachable for every attempt: a transient error, so the outbox retries later.
    emu.emulator.inject("CreateHITWithHITType", "ServiceFault", count=2)
    with pytest.raises(PlatformError) as exc:
        MTurkPlatform({"endpoint": emu.url}, {"MTURK_MAX_ATTEMPTS": 2}).hire(project(state=after), 1, "hire-3")
    assert exc.value.transient


def test_identity_preview_and_ownership(adapter: MTurkPlatform, emu: RunningEmulator) -> None:
    state = adapter.hire(project(), 2, "hire-1")
    p = project(state=state)
    hit_id = state["hits"][0]  # type: ignore[index]
    preview_url = httpx.post(f"{emu.url}/_emu/preview", json={"hit_id": hit_id}).json()["url"]
    assert isinstance(adapter.identify(p, dict(httpx.URL(preview_url).params)), Preview)
    a = accept(emu, hit_id, "A1WORKER")
    seen = arrive(adapter, p, a)
    assert (seen.worker_id, seen.assignment_id, seen.extra["hitId"]) == ("A1WORKER", a["assignment_id"], hit_id)
    with pytest.raises(IdentityError):
        adapter.identify(p, {"assignmentId": a["assignment_id"], "hitId": hit_id})  # no workerId
    other = MTurkPlatform({"endpoint": emu.url}, {})
    foreign = other.hire(project(id=2, name="Other"), 1, "hire-x")
    with pytest.raises(IdentityError, match="does not belong"):
        adapter.identify(p, {"assignmentId": a["assignment_id"], "hitId": foreign["hits"][0],  # type: ignore[index]
                             "workerId": "A1WORKER"})
    unrecorded = adapter.hire(p, 1, "hire-2")  # created, but suppose the state was never saved
    late = accept(emu, unrecorded["hits"][-1], "A2")  # type: ignore[index]
    assert isinstance(adapter.identify(p, dict(httpx.URL(late["url"]).params)), Identity)


def test_equal_projects_share_a_hit_type_but_never_each_others_hits(adapter: MTurkPlatform,
                                                                    emu: RunningEmulator) -> None:
    a = project(id=1, name="A")
    b = project(id=2, name="B")
    state_a = adapter.hire(a, 1, "hire-1")
    state_b = adapter.hire(b, 1, "hire-1")
    assert state_a is not None and state_b is not None
    assert state_a["hit_type_id"] == state_b["hit_type_id"]  # MTurk gives equal attributes one type
    assert state_a["run_id"] != state_b["run_id"]
    unrecorded_b = adapter.hire(project(id=2, name="B", state=state_b), 1, "hire-2")  # suppose never saved
    assert unrecorded_b is not None
    late_b = unrecorded_b["hits"][-1]
    a_view, b_view = project(id=1, name="A", state=state_a), project(id=2, name="B", state=state_b)
    assert not adapter.owns_hit(a_view, late_b) and adapter.owns_hit(b_view, late_b)
    assert not adapter.owns_hit(a_view, state_b["hits"][0])
    worker = accept(emu, late_b, "ABWORKER")
    with pytest.raises(IdentityError, match="does not belong"):
        adapter.identify(a_view, dict(httpx.URL(worker["url"]).params))
    assert isinstance(adapter.identify(b_view, dict(httpx.URL(worker["url"]).params)), Identity)

    class Host:  # the consumer's view of the server: both projects live
        def platform_projects(self, platform: str) -> list[PlatformProject]:
            return [a_view, b_view]

        def platform_view(self, project_id: int) -> tuple[MTurkPlatform, PlatformProject]:
            return adapter, {1: a_view, 2: b_view}[project_id]

    def event(hit_id: str) -> PlatformEvent:
        return PlatformEvent("doc", 0, "AssignmentReturned", hit_id, state_a["hit_type_id"], "X" * 30,
                             datetime.now(UTC))

    host: Any = Host()
    assert project_of(host, event(state_b["hits"][0])) == 2  # recorded: by id, though A has the same type
    assert project_of(host, event(late_b)) == 2  # unrecorded: MTurk's annotation names B
    assert project_of(host, event(state_a["hits"][0])) == 1


def test_submit_target_is_the_configured_host(adapter: MTurkPlatform, emu: RunningEmulator) -> None:
    form = adapter.submit_target(project(), PlatformAssignment("k", "A1", "ASG1", {"turkSubmitTo": "https://evil"}))
    assert form is not None and form.url == f"{emu.url}/mturk/externalSubmit"
    assert form.fields == {"assignmentId": "ASG1"}
    sandbox = MTurkPlatform({"endpoint": "sandbox"}, {})
    target = sandbox.submit_target(project(), PlatformAssignment("k", "A1", "ASG1"))
    assert target is not None and target.url == "https://workersandbox.mturk.com/mturk/externalSubmit"


def test_reconcile_finds_only_proven_departures(adapter: MTurkPlatform, emu: RunningEmulator,
                                                clock: ManualClock) -> None:
    state = adapter.hire(project(), 4, "hire-1")
    p = project(state=state)
    hit_id = state["hits"][0]  # type: ignore[index]
    a1, a2, a3 = (accept(emu, hit_id, w) for w in ("AONE", "ATWO", "ATHREE"))
    present = [arrive(adapter, p, a) for a in (a1, a2, a3)]
    assert adapter.reconcile(p, present) == []  # all three are working
    submit(emu, a1["assignment_id"])
    httpx.post(f"{emu.url}/_emu/return", json={"assignment_id": a2["assignment_id"]})
    taken = accept(emu, hit_id, "AFOUR")  # the returned id goes to the next worker
    assert taken["assignment_id"] == a2["assignment_id"]
    submit(emu, taken["assignment_id"])
    found = {(d.worker_id, d.how) for d in adapter.reconcile(p, present)}
    assert found == {("AONE", "submitted"), ("ATWO", "returned")}  # ATHREE still pending: not guessed
    httpx.post(f"{emu.url}/_emu/abandon", json={"assignment_id": a3["assignment_id"]})
    found = {(d.worker_id, d.how) for d in adapter.reconcile(p, present[2:])}
    assert found == {("ATHREE", "returned")}  # no pending work left on the HIT: gone, before our deadline


def test_payments_are_idempotent_and_bonuses_wait_for_submission(adapter: MTurkPlatform,
                                                                 emu: RunningEmulator) -> None:
    state = adapter.hire(project(), 1, "hire-1")
    p = project(state=state)
    a = accept(emu, state["hits"][0], "APAID")  # type: ignore[index]
    seen = arrive(adapter, p, a)
    bonus = PaymentOrder("pay-7-waiting", "waiting", Decimal("0.37"), seen, "time in the waiting room")
    with pytest.raises(PlatformError) as exc:
        adapter.pay(p, bonus)  # not submitted yet
    assert exc.value.transient
    submit(emu, a["assignment_id"])
    reward = PaymentOrder("pay-7-reward", "reward", Decimal("0.50"), seen, "thank you")
    before = emu.emulator.model.balance
    assert adapter.pay(p, reward) == adapter.pay(p, reward)  # approving twice is one approval
    adapter.pay(p, bonus)
    adapter.pay(p, bonus)  # a retry after a crash: same token, no second bonus
    model = emu.emulator.model
    assert [b.amount for b in model.bonuses] == [Decimal("0.37")]
    paid = Decimal("0.50") + adapter.fee(Decimal("0.50")) + Decimal("0.37") + adapter.fee(Decimal("0.37"))
    assert before - model.balance == paid  # the emulator's own fee rule agrees with the adapter's
    assert adapter.fee(Decimal("0.01")) == Decimal("0.01") and adapter.fee(Decimal("0")) == Decimal("0")


def test_expire_closes_every_hit(adapter: MTurkPlatform, emu: RunningEmulator) -> None:
    state = adapter.hire(project(), 12, "hire-1")
    a = accept(emu, state["hits"][0], "ASTAY")  # type: ignore[index]
    out = adapter.expire(project(state=state), "expire-1")
    assert out is not None and out["expired"]
    model = emu.emulator.model
    assert all(model.counts(model.hits[h])[1] == 0 for h in state["hits"])  # type: ignore[index]
    submit(emu, a["assignment_id"])  # a worker who had accepted can still submit


def test_settings_are_checked() -> None:
    with pytest.raises(ValueError, match="platform.endpoint"):
        MTurkPlatform.validate_settings({"endpoint": "mars"})
    with pytest.raises(ValueError, match="platform.lifetime_s"):
        MTurkPlatform.validate_settings({"lifetime_s": 5})
    with pytest.raises(ValueError, match="platform.colour"):
        MTurkPlatform.validate_settings({"colour": "red"})


def test_real_mturk_needs_an_https_task_link() -> None:
    with pytest.raises(PlatformError, match="HTTPS") as exc:
        MTurkPlatform({"endpoint": "sandbox"}, {}).hire(project(), 1, "hire-1")
    assert not exc.value.transient


def test_notifications_from_sqs_with_duplicates_and_reordering(adapter: MTurkPlatform, emu: RunningEmulator,
                                                               moto_server: str) -> None:
    import boto3

    sqs = boto3.client("sqs", region_name="us-east-1", endpoint_url=moto_server)
    queue_url = sqs.create_queue(QueueName="adapter-events")["QueueUrl"]
    with_queue = MTurkPlatform({"endpoint": emu.url, "sqs_queue_url": queue_url}, {})
    emu.emulator.dispatcher.chaos.duplicate = 1.0
    emu.emulator.dispatcher.chaos.reorder = 0.5
    state = with_queue.hire(project(id=5), 3, "hire-1")
    a = accept(emu, state["hits"][0], "ANOTE")  # type: ignore[index]
    httpx.post(f"{emu.url}/_emu/return", json={"assignment_id": a["assignment_id"]})
    b = accept(emu, state["hits"][0], "ANOTHER")  # type: ignore[index]
    submit(emu, b["assignment_id"])
    emu.emulator.dispatcher.flush()
    seen: dict[str, Any] = {}
    drain_queue(sqs, queue_url, lambda e: seen.setdefault(e.key, e))
    departures = sorted((e.departure, e.assignment_id) for e in seen.values() if e.departure)
    assert departures == sorted([("returned", a["assignment_id"]), ("submitted", b["assignment_id"])])
    assert sqs.receive_message(QueueUrl=queue_url).get("Messages") is None  # handled messages are deleted
