"""MTurk notifications from SQS: parse MTurk's documents into departures, de-duplicated on EventDocId."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

log = logging.getLogger(__name__)

# Only these events say a worker left; the others (accepted, approved, HIT-level) are hints for reconciliation.
DEPARTURE_EVENTS = {
    "AssignmentSubmitted": "submitted",
    "AssignmentReturned": "returned",
    "AssignmentAbandoned": "abandoned",
}
SUBSCRIBED_EVENTS = [
    "AssignmentAccepted",
    "AssignmentReturned",
    "AssignmentAbandoned",
    "AssignmentSubmitted",
    "HITExpired",
]
NOTIFICATION_VERSION = "2006-05-05"


@dataclass(frozen=True)
class PlatformEvent:
    """One MTurk event about one assignment or HIT. There is no worker id: MTurk does not send one."""

    doc_id: str
    index: int  # position in its document; (doc_id, index) names the event
    event_type: str
    hit_id: str
    hit_type_id: str
    assignment_id: str | None
    at: datetime

    @property
    def departure(self) -> str | None:
        return DEPARTURE_EVENTS.get(self.event_type)

    @property
    def key(self) -> str:
        return f"mturk:{self.doc_id}:{self.index}"


def parse_document(body: str) -> list[PlatformEvent]:
    """The events of one notification document (an SQS body, or an SNS envelope's Message); [] if malformed."""
    try:
        doc = json.loads(body)
        if "Message" in doc and "Events" not in doc:  # SNS envelope
            doc = json.loads(doc["Message"])
        doc_id = str(doc["EventDocId"])
        return [
            PlatformEvent(
                doc_id,
                i,
                str(e["EventType"]),
                str(e.get("HITId", "")),
                str(e.get("HITTypeId", "")),
                e.get("AssignmentId"),
                _when(e.get("EventTimestamp")),
            )
            for i, e in enumerate(doc["Events"])
        ]
    except (KeyError, TypeError, ValueError):
        log.warning("ignoring a malformed MTurk notification: %.200s", body)
        return []


def _when(stamp: Any) -> datetime:
    try:
        return datetime.strptime(str(stamp), "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    except ValueError:
        return datetime.now(UTC)


def notification_spec(queue_url: str) -> dict[str, Any]:
    return {
        "Destination": queue_url,
        "Transport": "SQS",
        "Version": NOTIFICATION_VERSION,
        "EventTypes": list(SUBSCRIBED_EVENTS),
    }


def subscribe(client: Any, hit_type_id: str, queue_url: str) -> None:
    client.update_notification_settings(HITTypeId=hit_type_id, Notification=notification_spec(queue_url), Active=True)


def drain_queue(
    sqs: Any, queue_url: str, handle: Callable[[PlatformEvent], object], *, max_batches: int = 10, wait_s: int = 0
) -> int:
    """Receive, handle and delete messages; a message whose handling fails stays for redelivery.

    `handle` must be idempotent on `event.key`: SQS delivers at least once, MTurk may send an event twice.
    """
    handled = 0
    for _ in range(max_batches):
        got = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=wait_s)
        messages = got.get("Messages") or []
        if not messages:
            break
        for message in messages:
            try:
                for event in parse_document(message["Body"]):
                    handle(event)
                    handled += 1
            except Exception:
                log.exception("MTurk notification not handled; it will come back")
                continue
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
    return handled
