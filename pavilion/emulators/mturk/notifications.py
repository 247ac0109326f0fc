"""Notification delivery in MTurk's message format, with switches for batching, duplicates, reordering and drops."""

from __future__ import annotations

import hashlib
import json
import logging
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import numpy as np

from pavilion.emulators.mturk.records import Notice

log = logging.getLogger(__name__)

# A sink receives (transport, destination, message body as a JSON string).
Sink = Callable[[str, str, str], None]


@dataclass
class Chaos:
    """How badly delivery behaves. Probabilities are per message; `batch` is the most events in one message."""

    duplicate: float = 0.0
    reorder: float = 0.0
    drop: float = 0.0
    batch: int = 1

    def validate(self) -> Chaos:
        for name in ("duplicate", "reorder", "drop"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"chaos.{name} must be a probability in [0, 1], got {value}")
        if self.batch < 1:
            raise ValueError(f"chaos.batch must be at least 1, got {self.batch}")
        return self


@dataclass(frozen=True)
class Message:
    transport: str
    destination: str
    body: str


class Dispatcher:
    """Turns events into MTurk notification documents and hands them to a sink, misbehaving as told."""

    def __init__(self, sink: Sink, *, seed: int = 0, chaos: Chaos | None = None,
                 customer_id: str = "AEMULATEDREQUESTER", source_account: str = "000000000000") -> None:
        self.sink = sink
        self.rng = np.random.default_rng(seed)
        self.chaos = (chaos or Chaos()).validate()
        self.customer_id = customer_id
        self.source_account = source_account
        self.held: list[Message] = []
        self.sent: list[Message] = []  # every delivery attempt that reached the sink, for tests and /_emu/state
        self.dropped = 0
        self.failed = 0
        self._lock = threading.Lock()

    def deliver(self, notices: list[Notice]) -> None:
        """Deliver one request's worth of events (in order, unless reordering is switched on)."""
        with self._lock:
            for message in self._messages(notices):
                if self.rng.random() < self.chaos.drop:
                    self.dropped += 1
                    continue
                if self.rng.random() < self.chaos.reorder:
                    self.held.append(message)  # goes out after a later message, or at the next flush
                    continue
                self._deliver_one(message)
                self._release_held()

    def flush(self) -> None:
        """Send every held-back message now."""
        with self._lock:
            self._release_held()

    def _release_held(self) -> None:
        held, self.held = self.held, []
        for message in reversed(held):  # last held goes first: a burst of held messages arrives reversed
            self._deliver_one(message)

    def _deliver_one(self, message: Message) -> None:
        self._send(message)
        if self.rng.random() < self.chaos.duplicate:
            self._send(message)  # same EventDocId again: at-least-once delivery

    def _messages(self, notices: list[Notice]) -> list[Message]:
        by_destination: dict[tuple[str, str, str], list[dict[str, Any]]] = {}
        for notice in notices:
            by_destination.setdefault((notice.transport, notice.destination, notice.version), []).append(notice.event)
        out = []
        for (transport, destination, version), events in by_destination.items():
            for i in range(0, len(events), self.chaos.batch):
                doc = {"Events": events[i : i + self.chaos.batch], "EventDocId": self._doc_id(),
                       "SourceAccount": self.source_account, "CustomerId": self.customer_id,
                       "EventDocVersion": version}
                out.append(Message(transport, destination, json.dumps(doc)))
        return out

    def _doc_id(self) -> str:
        return hashlib.sha1(self.rng.bytes(20)).hexdigest()

    def _send(self, message: Message) -> None:
        try:
            self.sink(message.transport, message.destination, message.body)
            self.sent.append(message)
        except Exception:  # a broken destination loses the message, as on MTurk
            self.failed += 1
            log.warning("notification to %s failed", message.destination, exc_info=True)


class TransportSink:
    """Delivers to SQS (SendMessage on the queue URL) or SNS-style HTTP POST; Email is recorded only."""

    def __init__(self, sqs_endpoint_url: str | None = None) -> None:
        self.sqs_endpoint_url = sqs_endpoint_url
        self._clients: dict[str, Any] = {}
        self.emails: list[tuple[str, str]] = []

    def __call__(self, transport: str, destination: str, body: str) -> None:
        if transport == "SQS":
            self._sqs(destination).send_message(QueueUrl=destination, MessageBody=body)
        elif transport == "SNS":
            self._post_sns(destination, body)
        else:
            self.emails.append((destination, body))

    def _sqs(self, queue_url: str) -> Any:
        parts = urlsplit(queue_url)
        endpoint = self.sqs_endpoint_url or f"{parts.scheme}://{parts.netloc}"
        if endpoint not in self._clients:
            import boto3

            session = boto3.session.Session()
            # A local SQS (moto, ElasticMQ) accepts any key; use the real chain when there is one.
            creds = {} if session.get_credentials() else {"aws_access_key_id": "emulator",
                                                          "aws_secret_access_key": "emulator"}
            self._clients[endpoint] = session.client("sqs", region_name="us-east-1", endpoint_url=endpoint, **creds)
        return self._clients[endpoint]

    def _post_sns(self, url: str, body: str) -> None:
        import httpx

        envelope = {"Type": "Notification", "MessageId": str(uuid.uuid4()),
                    "TopicArn": "arn:aws:sns:us-east-1:000000000000:mturk-emulator",
                    "Subject": str(int(time.time() * 1000)), "Message": body,
                    "Timestamp": time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime())}
        httpx.post(url, content=json.dumps(envelope), headers={"Content-Type": "text/plain; charset=UTF-8",
                                                               "x-amz-sns-message-type": "Notification"},
                   timeout=5.0).raise_for_status()
