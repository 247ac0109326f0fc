"""The adapter's pure parts: notification parsing, reconciliation rules, HIT chunks, tokens, fees."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from pavilion.runtime.platforms.mturk.hits import chunks, external_question, request_token
from pavilion.runtime.platforms.mturk.notifications import parse_document
from pavilion.runtime.platforms.mturk.payments import fee
from pavilion.runtime.platforms.mturk.reconcile import Found, Present, departures

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)


def test_parse_sqs_body_and_sns_envelope() -> None:
    doc = {"Events": [{"EventType": "AssignmentReturned", "EventTimestamp": "2026-11-28T11:59:58Z", "HITId": "H",
                       "AssignmentId": "A", "HITTypeId": "T"}, {"EventType": "HITExpired", "HITId": "H",
                                                                "HITTypeId": "T", "EventTimestamp": "x"}],
           "EventDocId": "d" * 40, "SourceAccount": "1", "CustomerId": "C", "EventDocVersion": "2006-05-05"}
    events = parse_document(json.dumps(doc))
    assert [(e.departure, e.assignment_id) for e in events] == [("returned", "A"), (None, None)]
    assert events[0].at == NOW - timedelta(seconds=2) and events[0].key != events[1].key
    envelope = json.dumps({"Type": "Notification", "Message": json.dumps(doc)})
    assert [e.key for e in parse_document(envelope)] == [e.key for e in events]
    assert parse_document("not json") == [] and parse_document('{"Events": []}') == []


def present(key: str, assignment: str, worker: str, joined_ago_s: float = 10) -> Present:
    return Present(key, assignment, worker, "H1", NOW - timedelta(seconds=joined_ago_s))


def hit(pending: int, duration: int = 600) -> dict[str, object]:
    return {"H1": {"NumberOfAssignmentsPending": pending, "AssignmentDurationInSeconds": duration}}


def test_reconcile_rules() -> None:
    people = [present("k1", "A1", "AW1"), present("k2", "A2", "AW2"), present("k3", "A3", "AW3", joined_ago_s=700)]
    # A1 submitted by its own worker; A2's id listed for someone else (it was returned and re-taken); k3 is past
    # the deadline counted from joining (MTurk's deadline, from the earlier accept, is even sooner).
    found = departures(people, hit(pending=1), {"H1": {("A1", "AW1"), ("A2", "AW9")}}, NOW)
    assert found == [Found("k1", "submitted"), Found("k2", "returned"), Found("k3", "abandoned")]


def test_reconcile_does_not_guess() -> None:
    people = [present("k1", "A1", "AW1"), present("k2", "A2", "AW2")]
    assert departures(people, hit(pending=1), {"H1": set()}, NOW) == []  # one of them left; which is unknown
    assert {f.key for f in departures(people, hit(pending=0), {"H1": set()}, NOW)} == {"k1", "k2"}
    assert departures(people, {}, {}, NOW) == []  # a HIT we could not read proves nothing


def test_chunks_never_reach_ten() -> None:
    assert list(chunks(20)) == [9, 9, 2] and list(chunks(9)) == [9] and list(chunks(0)) == []
    assert all(n <= 9 for n in chunks(1000)) and sum(chunks(1000)) == 1000


def test_tokens_are_stable_and_short() -> None:
    assert request_token("run", "hire-1", 0) == request_token("run", "hire-1", 0)
    assert request_token("run", "hire-1", 0) != request_token("run", "hire-1", 1)
    assert len(request_token("x" * 500)) <= 64


def test_external_question_escapes_the_link() -> None:
    xml = external_question("https://h/task/1?a=1&b=2")
    assert "<ExternalURL>https://h/task/1?a=1&amp;b=2</ExternalURL>" in xml and "<FrameHeight>0</FrameHeight>" in xml


def test_fee_rule() -> None:
    assert fee(Decimal("1.00")) == Decimal("0.20")
    assert fee(Decimal("0.02")) == Decimal("0.01")  # minimum one cent
    assert fee(Decimal("0.13")) == Decimal("0.03")  # 0.026 rounds to 0.03
    assert fee(Decimal("0.00")) == Decimal("0.00")


def test_serve_flags_become_app_config() -> None:
    import argparse

    import pytest

    from pavilion.errors import InputError
    from pavilion.runtime.platforms.mturk.adapter import MTurkPlatform

    parser = argparse.ArgumentParser()
    MTurkPlatform.add_serve_arguments(parser)
    args = parser.parse_args(["--mturk-endpoint", "http://127.0.0.1:8443", "--mturk-sqs-queue-url", "http://q/1/a"])
    assert MTurkPlatform.settings_from_args(args) == {"MTURK_ENDPOINT": "http://127.0.0.1:8443",
                                                      "MTURK_SQS_QUEUE_URL": "http://q/1/a"}
    with pytest.raises(InputError, match="--mturk-endpoint"):
        MTurkPlatform.settings_from_args(parser.parse_args(["--mturk-endpoint", "moon"]))
    assert MTurkPlatform.settings_from_args(parser.parse_args([])) == {}
