"""Server-side parameter checks that botocore leaves to MTurk: patterns, ranges and enums."""

from __future__ import annotations

import re
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from pavilion.emulators.mturk.errors import invalid

ENTITY_ID = re.compile(r"^[A-Z0-9]{1,64}$")
WORKER_ID = re.compile(r"^A[A-Z0-9]{1,63}$")
AMOUNT = re.compile(r"^[0-9]+(\.)?[0-9]{0,2}$")
QUESTION_ROOTS = ("ExternalQuestion", "HTMLQuestion", "QuestionForm")
EVENT_TYPES = frozenset(
    {
        "AssignmentAccepted", "AssignmentAbandoned", "AssignmentReturned", "AssignmentSubmitted",
        "AssignmentRejected", "AssignmentApproved", "HITCreated", "HITExpired", "HITReviewable",
        "HITExtended", "HITDisposed", "Ping",
    }
)
TRANSPORTS = frozenset({"Email", "SQS", "SNS"})


def required(params: Mapping[str, Any], name: str) -> Any:
    """A member botocore would normally insist on; raw HTTP callers may omit it."""
    if name not in params or params[name] is None:
        raise invalid(f"Value null at '{name}' failed to satisfy constraint: Member must not be null")
    return params[name]


def entity_id(params: Mapping[str, Any], name: str) -> str:
    value = required(params, name)
    if not isinstance(value, str) or not ENTITY_ID.match(value):
        raise invalid(f"Value '{value}' at '{name}' failed to satisfy constraint: Member must satisfy "
                      f"regular expression pattern: ^[A-Z0-9]+$")
    return value


def worker_id(value: Any, name: str = "WorkerId") -> str:
    if not isinstance(value, str) or not WORKER_ID.match(value):
        raise invalid(f"Value '{value}' at '{name}' failed to satisfy constraint: Member must satisfy "
                      f"regular expression pattern: ^A[A-Z0-9]+$")
    return value


def amount(value: Any, name: str) -> Decimal:
    if not isinstance(value, str) or not AMOUNT.match(value):
        raise invalid(f"Value '{value}' at '{name}' failed to satisfy constraint: Member must satisfy "
                      f"regular expression pattern: ^[0-9]+(\\.)?[0-9]{{0,2}}$")
    return Decimal(value)


def integer(params: Mapping[str, Any], name: str, low: int, high: int, default: int | None = None) -> int:
    value = params.get(name, default)
    if value is None:
        value = required(params, name)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise invalid(f"Value '{value}' at '{name}' failed to satisfy constraint: Member must be between "
                      f"{low} and {high}")
    return value


def text(params: Mapping[str, Any], name: str, max_len: int, default: str | None = None) -> str:
    value = params.get(name, default)
    if value is None:
        value = required(params, name)
    if not isinstance(value, str) or len(value) > max_len:
        raise invalid(f"Value at '{name}' failed to satisfy constraint: Member must have length less than "
                      f"or equal to {max_len}")
    return value


def token(params: Mapping[str, Any]) -> str | None:
    value = params.get("UniqueRequestToken")
    if value is None:
        return None
    if not isinstance(value, str) or not 1 <= len(value) <= 64:
        raise invalid("Value at 'UniqueRequestToken' failed to satisfy constraint: Member must have length "
                      "between 1 and 64")
    return value


def question(params: Mapping[str, Any]) -> str:
    value = text(params, "Question", 131_072)
    if len(value.encode()) > 65_535:
        raise invalid("Question must not be longer than 65535 bytes")
    head = value.lstrip()
    if head.startswith("<?xml"):
        head = head[head.find("?>") + 2 :].lstrip()
    if not any(head.startswith(f"<{root}") for root in QUESTION_ROOTS):
        raise invalid("Question must be an ExternalQuestion, HTMLQuestion or QuestionForm document")
    return value


def qualification_requirements(params: Mapping[str, Any]) -> list[dict[str, Any]]:
    value = params.get("QualificationRequirements") or []
    if len(value) > 10:
        raise invalid("A HIT can have at most 10 qualification requirements")
    return list(value)


def timestamp(params: Mapping[str, Any], name: str) -> float:
    value = required(params, name)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise invalid(f"Value '{value}' at '{name}' failed to satisfy constraint: Member must be a timestamp")
    return float(value)
