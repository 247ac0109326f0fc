"""Notification documents in MTurk's format, and the chaos switches that break delivery on purpose."""

from __future__ import annotations

import json

import pytest

from pavilion.emulators.mturk.notifications import Chaos, Dispatcher
from pavilion.emulators.mturk.records import Notice


def notices(n: int) -> list[Notice]:
    return [Notice("https://sqs/q", "SQS", "2006-05-05",
                   {"EventType": "AssignmentAccepted", "EventTimestamp": "2026-01-01T00:00:00Z",
                    "HITId": "H", "AssignmentId": f"A{i}", "HITTypeId": "T"}) for i in range(n)]


def collect(chaos: Chaos, n: int, seed: int = 0) -> list[dict[str, object]]:
    got: list[dict[str, object]] = []
    dispatcher = Dispatcher(lambda t, d, body: got.append(json.loads(body)), seed=seed, chaos=chaos)
    for notice in notices(n):
        dispatcher.deliver([notice])
    dispatcher.flush()
    return got


def test_document_format() -> None:
    (doc,) = collect(Chaos(), 1)
    assert set(doc) == {"Events", "EventDocId", "SourceAccount", "CustomerId", "EventDocVersion"}
    assert len(str(doc["EventDocId"])) == 40 and doc["EventDocVersion"] == "2006-05-05"


def test_batching_groups_events() -> None:
    got: list[dict[str, object]] = []
    Dispatcher(lambda t, d, b: got.append(json.loads(b)), chaos=Chaos(batch=3)).deliver(notices(7))
    assert [len(doc["Events"]) for doc in got] == [3, 3, 1]  # type: ignore[arg-type]


def test_duplicates_keep_the_event_doc_id() -> None:
    got = collect(Chaos(duplicate=1.0), 5)
    ids = [doc["EventDocId"] for doc in got]
    assert len(ids) == 10 and len(set(ids)) == 5


def test_drop_all_and_none() -> None:
    assert collect(Chaos(drop=1.0), 5) == []
    assert len(collect(Chaos(drop=0.0), 5)) == 5


def test_reordering_changes_order_but_loses_nothing() -> None:
    got = collect(Chaos(reorder=0.5), 40, seed=3)
    order = [doc["Events"][0]["AssignmentId"] for doc in got]  # type: ignore[index]
    assert sorted(order) == sorted(f"A{i}" for i in range(40))
    assert order != [f"A{i}" for i in range(40)]


def test_bad_switches_are_refused() -> None:
    with pytest.raises(ValueError, match="chaos.drop"):
        Chaos(drop=1.5).validate()
    with pytest.raises(ValueError, match="chaos.batch"):
        Chaos(batch=0).validate()


def test_sns_transport_posts_an_envelope() -> None:
    import threading

    from werkzeug.serving import make_server
    from werkzeug.wrappers import Request, Response

    from pavilion.emulators.mturk.notifications import TransportSink

    got: list[dict[str, object]] = []

    def app(environ: dict[str, object], start_response: object) -> object:
        got.append(json.loads(Request(environ).get_data(as_text=True)))  # type: ignore[arg-type]
        return Response("")(environ, start_response)  # type: ignore[arg-type]

    server = make_server("127.0.0.1", 0, app)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        notice = Notice(f"http://127.0.0.1:{server.server_port}/sns", "SNS", "2006-05-05", notices(1)[0].event)
        Dispatcher(TransportSink()).deliver([notice])
    finally:
        server.shutdown()
        server.server_close()
    (envelope,) = got
    assert envelope["Type"] == "Notification"
    assert json.loads(str(envelope["Message"]))["Events"][0]["EventType"] == "AssignmentAccepted"


def test_a_broken_destination_loses_the_message_and_counts_it() -> None:
    def broken(transport: str, destination: str, body: str) -> None:
        raise ConnectionError("queue permissions broke")

    dispatcher = Dispatcher(broken)
    dispatcher.deliver(notices(2))
    assert dispatcher.failed == 2 and dispatcher.sent == []


def test_advancing_needs_a_manual_clock() -> None:
    from pavilion.emulators.mturk.emulator import Emulator

    with pytest.raises(ValueError, match="manual clock"):
        Emulator().advance(1)
