"""The /worker namespace: token-checked connect, private rooms, heartbeat/leave/ready, and a clear error to the
sender (and nobody else) for every bad event, with the database unchanged."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from pavilion.runtime.context import Runtime
from pavilion.runtime.models import Payment
from pavilion.runtime.tokens import WorkerClaim
from pavilion.runtime.worker import namespace
from pavilion.runtime.worker.side import get_worker_side

from .conftest import ManualClock, assignment, connect, enter, make_project, received, table_counts

pytestmark = pytest.mark.timeout(60)
NS = "/worker"


def test_a_connection_gets_its_own_queue_state_and_nobody_elses(app: Flask, runtime: Runtime) -> None:
    project_id = make_project(runtime, min_active=2, max_active=2, min_waiting=1, max_waiting=2)
    ann, bob = enter(app, project_id), enter(app, project_id)
    ann_socket = connect(app, ann.token)
    assert received(ann_socket) == [{"queue": "waiting", "position": 1, "waiting": 2, "active": 0, "earned_usd": 0.0,
                                       "start_at": 3, "needed": 1}]
    bob_socket = connect(app, bob.token)
    assert received(bob_socket, "queue")[0]["position"] == 2
    assert received(ann_socket) == []  # bob's connect told ann nothing


@pytest.mark.parametrize(
    "auth",
    [None, {}, {"token": ""}, {"token": 7}, {"token": "forged.token.value"}, "just-a-string"],
    ids=["no-auth", "empty-auth", "empty-token", "int-token", "forged", "auth-not-an-object"],
)
def test_a_connection_without_a_valid_token_is_refused(app: Flask, runtime: Runtime, auth: Any) -> None:
    make_project(runtime)
    client = app.extensions["socketio"].test_client(app, namespace=NS, auth=auth)
    assert not client.is_connected(NS)


def test_expired_other_workers_and_departed_tokens_are_refused(
    app: Flask, runtime: Runtime, clock: ManualClock
) -> None:
    project_id = make_project(runtime)
    entered = enter(app, project_id)
    tokens = get_worker_side(app).tokens
    assert not connect(app, tokens.issue(WorkerClaim(project_id, entered.key, "not-the-owner"))).is_connected(NS)
    assert not connect(app, tokens.issue(WorkerClaim(project_id + 1, entered.key, "x"))).is_connected(NS)
    runtime.service.depart(project_id, entered.key, "returned", source="platform")
    assert not connect(app, entered.token).is_connected(NS)  # the stint is over
    other = enter(app, project_id)
    clock.advance(float(app.config["TOKEN_MAX_AGE_S"]) + 1)
    assert not connect(app, other.token).is_connected(NS)


def test_a_heartbeat_answers_with_pay_earned_by_the_server_clock(
    app: Flask, runtime: Runtime, clock: ManualClock
) -> None:
    project_id = make_project(runtime)
    socket = connect(app, enter(app, project_id).token)
    received(socket)
    clock.advance(1800)  # half an hour at $7.20/h
    assert socket.emit("heartbeat", namespace=NS, callback=True) == {"ok": True}
    assert received(socket, "queue")[0]["earned_usd"] == pytest.approx(3.60)


BAD_EVENTS = [
    ("leave", (), "leave needs one object payload"),
    ("leave", ("submitted",), "leave needs one object payload"),
    ("leave", ({"how": 3},), "leave.how must be a string, got int"),
    ("leave", ({"how": "abandoned"},), "got 'abandoned'"),
    ("leave", ({},), "missing the field 'how'"),
    ("leave", ({"how": "returned", "worker_id": "other-key"},), "does not take the field 'worker_id'"),
    ("leave", ({"how": "submitted", "pad": "x" * 5000},), "the limit is 1024"),
    ("heartbeat", ({"earned_usd": 1000},), "heartbeat takes no payload"),
    ("ready", (), "ready is sent only after a promotion"),
    ("join", ("worker:other",), "unknown event 'join'"),
    ("unknown", (), "unknown event 'unknown'"),
    ("disconnect", (), "unknown event 'disconnect'"),  # a forged disconnect must not start the abandon grace
    ("leave", ({"how": "submitted"},), "you may leave with pay after 60 more seconds"),
]


@pytest.mark.parametrize(("event", "args", "message"), BAD_EVENTS, ids=[m for _, _, m in BAD_EVENTS])
def test_a_bad_event_gets_an_error_to_that_client_only_and_changes_nothing(
    app: Flask, runtime: Runtime, event: str, args: tuple[Any, ...], message: str
) -> None:
    project_id = make_project(runtime, min_active=2, max_active=2)
    sender, bystander = connect(app, enter(app, project_id).token), connect(app, enter(app, project_id).token)
    received(sender), received(bystander)
    before = table_counts(runtime)
    reply = sender.emit(event, *args, namespace=NS, callback=True)
    assert reply["ok"] is False and message in reply["error"]
    assert [m["message"] for m in received(sender, "error")] == [reply["error"]]
    assert received(bystander) == []
    assert table_counts(runtime) == before
    assert sender.emit("heartbeat", namespace=NS, callback=True) == {"ok": True}  # still served


def test_leave_with_pay_is_offered_after_the_project_waiting_time(
    app: Flask, runtime: Runtime, clock: ManualClock
) -> None:
    project_id = make_project(runtime, min_active=2, max_active=2)
    entered = enter(app, project_id)
    socket = connect(app, entered.token)
    clock.advance(59)
    assert "after 1 more seconds" in socket.emit("leave", {"how": "submitted"}, namespace=NS, callback=True)["error"]
    clock.advance(1)
    assert socket.emit("leave", {"how": "submitted"}, namespace=NS, callback=True) == {"ok": True, "how": "submitted"}
    row = assignment(runtime, entered.key)
    assert row.how_left == "submitted" and row.left_source == "socket"
    with runtime.db.session_scope() as session:
        lines = {p.kind: p.amount_cents for p in session.scalars(select(Payment))}
    assert lines == {"reward": 50, "waiting": 12}  # 60 s at $7.20/h
    received(socket)
    reply = socket.emit("heartbeat", namespace=NS, callback=True)
    assert "already left this session (submitted)" in reply["error"]


def test_a_waiting_worker_may_return_at_any_time(app: Flask, runtime: Runtime) -> None:
    project_id = make_project(runtime, min_active=2, max_active=2)
    entered = enter(app, project_id)
    socket = connect(app, entered.token)
    assert socket.emit("leave", {"how": "returned"}, namespace=NS, callback=True)["ok"] is True
    assert assignment(runtime, entered.key).how_left == "returned"
    assert runtime.service.snapshot(project_id)["waiting"] == []


def test_ready_after_promotion_is_recorded(app: Flask, runtime: Runtime) -> None:
    project_id = make_project(runtime)
    first = enter(app, project_id)
    socket = connect(app, first.token)
    enter(app, project_id)  # the job starts: first is promoted
    assert received(socket, "promoted") == [{"url": ""}]  # no task url: the built-in demo task
    assert socket.emit("ready", namespace=NS, callback=True) == {"ok": True}
    seen = get_worker_side(app).presence.get(first.key)
    assert seen is not None and seen.ready_at is not None


def test_after_stop_only_submitting_is_possible(app: Flask, runtime: Runtime) -> None:
    project_id = make_project(runtime, min_active=2, max_active=2)
    entered = enter(app, project_id)
    socket = connect(app, entered.token)
    runtime.service.stop(project_id)
    assert received(socket, "stop") == [{}]
    before = table_counts(runtime)
    for event, args in (("heartbeat", ()), ("ready", ()), ("leave", ({"how": "returned"},))):
        reply = socket.emit(event, *args, namespace=NS, callback=True)
        assert reply["ok"] is False and "stopped" in reply["error"]
    assert received(socket, "stop")  # told again, in case the page missed it
    assert table_counts(runtime) == before
    assert socket.emit("leave", {"how": "submitted"}, namespace=NS, callback=True)["ok"] is True  # no waiting time
    assert assignment(runtime, entered.key).how_left == "submitted"


def test_a_connect_event_sent_by_a_connected_client_cannot_switch_stints(app: Flask, runtime: Runtime) -> None:
    project_id = make_project(runtime, min_active=2, max_active=2)
    mine, theirs = enter(app, project_id), enter(app, project_id)
    socket = connect(app, mine.token)
    victim = connect(app, theirs.token)
    received(socket), received(victim)
    reply = socket.emit("connect", {"token": theirs.token}, namespace=NS, callback=True)
    assert reply["ok"] is False and "unknown event 'connect'" in reply["error"]
    runtime.service.migrate(project_id, theirs.key)
    assert received(socket, "promoted") == [] and received(victim, "promoted") == [{"url": ""}]
    seen = get_worker_side(app).presence.get(mine.key)
    assert seen is not None and len(seen.sids) == 1  # the forged disconnect/connect left presence alone


def test_a_promotion_while_the_page_connects_reaches_the_page(
    app: Flask, runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another process promotes the worker just after the connecting page's stint was read and before the page was
    in its room: that `promoted` went to nobody, the page was told it waits, and it never heard of its turn."""
    project_id = make_project(runtime, min_active=2, max_active=2)
    entered = enter(app, project_id)
    read = namespace.load_stint
    reads: list[str] = []

    def read_then_promoted_elsewhere(*args: Any, **kwargs: Any) -> Any:
        stint = read(*args, **kwargs)
        reads.append(stint.queue)
        if len(reads) == 1:
            runtime.service.migrate(project_id, entered.key)  # committed and sent to the worker's room right now
        return stint

    monkeypatch.setattr(namespace, "load_stint", read_then_promoted_elsewhere)
    socket = connect(app, entered.token)
    assert socket.is_connected(NS) and reads[0] == "waiting"
    assert received(socket, "promoted") == [{"url": ""}]
    assert assignment(runtime, entered.key).queue == "active"
