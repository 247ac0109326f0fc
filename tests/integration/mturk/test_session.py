"""A whole MTurk session through the policy service: join, wait, promote, submit, return, abandon, expire, stop, pay.

Notifications come from the emulator through SQS (moto); the same script runs with clean delivery and with every
message duplicated, batched and held back (arriving reversed), and must end the same. A restart in the middle
loses no worker and pays nobody twice.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from pavilion.emulators.mturk.notifications import Chaos
from pavilion.runtime.models import Payment

from .session import Session, mturk_session

pytestmark = pytest.mark.timeout(90)


@pytest.fixture
def queue(moto_server: str, request: pytest.FixtureRequest, aws_env: None) -> str:
    import boto3

    sqs = boto3.client("sqs", region_name="us-east-1", endpoint_url=moto_server)
    return str(sqs.create_queue(QueueName=f"mturk-{abs(hash(request.node.nodeid))}")["QueueUrl"])


def script(s: Session) -> None:
    """Each sync sees at most one departure, so delivery order within a sync cannot change the policy's inputs."""
    pid, step = s.project_id, 2.0
    snap = s.service.launch(pid)
    assert snap["status"] == "live"
    s.sync()
    hits = s.service.platform_view(pid)[1].state["hits"]
    assert [s.emu.emulator.model.hits[h].max_assignments for h in hits] == [4]  # Hire(max_active + max_waiting)
    for worker in ("AW1", "AW2", "AW3"):
        s.clock.advance(step)
        s.accept(worker)
    snap = s.service.snapshot(pid)
    assert [len(snap["active"]), len(snap["waiting"])] == [2, 1]  # started, then balanced
    s.clock.advance(step)
    s.leave_by_socket("AW3", "returned")  # a waiting worker says so on our page, returns on MTurk ...
    s.mturk_return("AW3")
    s.clock.advance(0.3)
    s.accept("AW4")  # ... and within the same second the next worker is handed the same assignment id
    assert s.assignments["AW4"] == s.assignments["AW3"]
    s.sync()  # the AssignmentReturned (maybe late) must not be pinned on AW4, the only holder still present
    s.clock.advance(step)
    s.submit("AW1")
    s.leave_by_socket("AW1", "submitted")  # the page says so too: one departure, whichever is first
    s.sync()
    s.clock.advance(step)
    s.accept("AW5")  # on the HIT hired to replace AW1
    s.clock.advance(step)
    s.mturk_abandon("AW5")
    s.sync()
    s.clock.advance(step)
    s.service.expire(pid)
    s.sync()
    model = s.emu.emulator.model
    assert all(model.counts(model.hits[h])[1] == 0 for h in s.service.platform_view(pid)[1].state["hits"])
    s.clock.advance(60)
    s.service.stop(pid)
    stopped = {m.room for m in s.notifier.messages if m.event == "stop"}
    assert stopped == {f"worker:{s.keys[w]}" for w in ("AW2", "AW4")}
    for worker in ("AW2", "AW4"):  # every page posts its own externalSubmit form
        s.clock.advance(step)
        s.submit(worker)
        s.sync()


def test_session_survives_duplicates_batching_and_reordering(tmp_path: Path, queue: str, moto_server: str) -> None:
    outcomes: list[dict[str, Any]] = []
    deliveries: list[tuple[int, int]] = []
    for i, chaos in enumerate([Chaos(), Chaos(duplicate=1.0, reorder=1.0, batch=3)]):
        (tmp_path / str(i)).mkdir()
        with mturk_session(tmp_path / str(i), queue, moto_server, chaos) as s:
            script(s)
            outcomes.append(s.outcome())
            sent = s.emu.emulator.dispatcher.sent
            deliveries.append((len(sent), len({json.loads(m.body)["EventDocId"] for m in sent})))
    (clean_sent, clean_docs), (chaos_sent, chaos_docs) = deliveries
    assert clean_sent == clean_docs and chaos_sent == 2 * chaos_docs  # it did misbehave
    clean, chaotic = outcomes
    assert chaotic == clean
    left = {w: how for w, how, _ in clean["left"]}
    assert left == {"AW1": "submitted", "AW2": "submitted", "AW3": "returned", "AW4": "submitted",
                    "AW5": "abandoned"}
    assert clean["approved"] == ["AW1", "AW2", "AW4"]
    assert {kind for _, kind, _, status in clean["paid"] if status == "paid"} == {"reward", "waiting", "active"}
    assert all(status == "paid" for *_, status in clean["paid"])
    bonus_lines = sorted((w, f"{cents / 100:.2f}") for w, kind, cents, _ in clean["paid"] if kind != "reward")
    assert clean["bonuses"] == bonus_lines  # every bonus line paid exactly once


def test_lost_notifications_are_found_by_reconciliation(tmp_path: Path, queue: str, moto_server: str) -> None:
    with mturk_session(tmp_path, queue, moto_server, Chaos(drop=1.0)) as s:
        s.service.launch(s.project_id)
        s.sync()
        for worker in ("AW1", "AW2"):
            s.clock.advance(2)
            s.accept(worker)
        s.clock.advance(2)
        s.submit("AW1")
        s.sync()
        assert s.outcome()["left"] == [("AW1", "", ""), ("AW2", "", "")]  # nothing arrived
        s.sync(reconcile=True)
        assert ("AW1", "submitted", "reconcile") in s.outcome()["left"]
        assert s.outcome()["approved"] == ["AW1"]


def test_restart_mid_session_loses_no_worker_and_pays_nobody_twice(tmp_path: Path, queue: str,
                                                                   moto_server: str) -> None:
    with mturk_session(tmp_path, queue, moto_server) as s:
        s.service.launch(s.project_id)
        s.sync()
        for worker in ("AW1", "AW2", "AW3"):
            s.clock.advance(30)
            s.accept(worker)
        before = s.service.snapshot(s.project_id)
        # The process dies right after AW1's departure commits: its payments are in the ledger, not yet paid.
        s.restart(spawn=lambda *args: None)
        s.clock.advance(30)
        s.submit("AW1")
        s.emu.emulator.dispatcher.flush()
        from pavilion.runtime.platforms.mturk.consumer import poll_once

        poll_once(s.service)
        with s.db.session_scope() as db:
            assert {p.status for p in db.scalars(select(Payment))} == {"pending"}
        # A bonus that MTurk makes but whose answer is lost on the way back: the retry carries the same token.
        s.emu.emulator.inject("SendBonus", "LostResponse")
        s.restart()
        s.service.outbox.recover()
        s.service.outbox.recover()  # a second start-up pass finds nothing left to do
        after = s.service.snapshot(s.project_id)
        assert set(after["active"]) | set(after["waiting"]) == (set(before["active"]) | set(before["waiting"])) - {
            s.keys["AW1"]}
        s.clock.advance(30)
        s.accept("AW4")  # the new process keeps running the session
        s.submit("AW2")
        s.sync()
        out = s.outcome()
        assert all(status == "paid" for *_, status in out["paid"])
        bonus_lines = sorted((w, f"{cents / 100:.2f}") for w, kind, cents, _ in out["paid"] if kind != "reward")
        assert out["bonuses"] == bonus_lines and out["approved"] == ["AW1", "AW2"]
