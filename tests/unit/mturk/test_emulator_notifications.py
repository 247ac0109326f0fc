"""Notification documents in MTurk's format, and the chaos switches that break delivery on purpose."""

from __future__ import annotations

import json

import pytest

from pavilion.runtime.emulators.mturk.notifications import Chaos, Dispatcher
from pavilion.runtime.emulators.mturk.state import Notice


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
