"""The emulator's records: HIT types, HITs, assignments, bonuses, events bound for delivery, and their wire views."""

from __future__ import annotations

import html
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from pavilion.emulators.mturk.errors import invalid

EXTERNAL_URL = re.compile(r"<ExternalURL>\s*(.*?)\s*</ExternalURL>", re.S)
ANSWER_NS = "http://mechanicalturk.amazonaws.com/AWSMechanicalTurkDataSchemas/2005-10-01/QuestionFormAnswers.xsd"


@dataclass
class HITType:
    hit_type_id: str
    title: str
    description: str
    reward: Decimal
    assignment_duration_s: int
    auto_approval_delay_s: int
    keywords: str
    qualification_requirements: list[dict[str, Any]]
    notification: dict[str, Any] | None = None
    notification_active: bool = False


@dataclass
class HIT:
    hit_id: str
    hit_type_id: str
    creation_time: float
    expiration: float
    question: str
    max_assignments: int
    original_max: int
    annotation: str | None
    disposed: bool = False
    expiry_announced: bool = False
    last_status: str = "Assignable"
    free_ids: list[str] = field(default_factory=list)


@dataclass
class Assignment:
    assignment_id: str
    hit_id: str
    worker_id: str
    status: str
    accept_time: float
    deadline: float
    submit_time: float | None = None
    auto_approval_time: float | None = None
    approval_time: float | None = None
    rejection_time: float | None = None
    answer: str | None = None
    feedback: str | None = None


@dataclass(frozen=True)
class Bonus:
    worker_id: str
    assignment_id: str
    hit_id: str
    amount: Decimal
    reason: str
    grant_time: float


@dataclass(frozen=True)
class Notice:
    """One event bound for one notification destination (Destination, Transport, Version)."""

    destination: str
    transport: str
    version: str
    event: dict[str, Any]


def iso(ts: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ts))


def money(x: Decimal) -> str:
    return f"{x:.2f}"


def assignment_view(a: Assignment) -> dict[str, Any]:
    out: dict[str, Any] = {"AssignmentId": a.assignment_id, "WorkerId": a.worker_id, "HITId": a.hit_id,
                           "AssignmentStatus": a.status, "AcceptTime": a.accept_time, "Deadline": a.deadline}
    optional = {"SubmitTime": a.submit_time, "AutoApprovalTime": a.auto_approval_time,
                "ApprovalTime": a.approval_time, "RejectionTime": a.rejection_time, "Answer": a.answer,
                "RequesterFeedback": a.feedback}
    out.update({k: val for k, val in optional.items() if val is not None})
    return out



def frame_url(question: str, params: dict[str, str]) -> str:
    """The ExternalURL with MTurk's parameters appended, keeping its own query string."""
    found = EXTERNAL_URL.search(question)
    if found is None:
        raise invalid("This HIT has no ExternalQuestion")
    parts = urlsplit(html.unescape(found.group(1)))
    query = parse_qsl(parts.query, keep_blank_values=True) + list(params.items())
    return urlunsplit(parts._replace(query=urlencode(query)))


def answer_xml(fields: Mapping[str, str]) -> str:
    body = "".join(f"<Answer><QuestionIdentifier>{html.escape(k)}</QuestionIdentifier>"
                   f"<FreeText>{html.escape(val)}</FreeText></Answer>" for k, val in fields.items())
    return f'<QuestionFormAnswers xmlns="{ANSWER_NS}">{body}</QuestionFormAnswers>'
