"""Paying on MTurk: the reward by approval, waiting and active pay as bonuses, each at most once."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from pavilion.runtime.platforms.base import PaymentOrder, PlatformError
from pavilion.runtime.platforms.mturk.client import error_message, turk_code

CENT = Decimal("0.01")
FEE_RATE = Decimal("0.20")  # our HITs never hold 10+ assignments, so the +20% large-HIT surcharge never applies


def fee(amount: Decimal) -> Decimal:
    """MTurk's commission on one assignment or bonus: 20%, rounded half-up, at least one cent; none on nothing."""
    if amount <= 0:
        return Decimal("0.00")
    return max(CENT, (amount * FEE_RATE).quantize(CENT, rounding=ROUND_HALF_UP))


def _status(client: Any, assignment_id: str) -> str | None:
    """The assignment's status, or None while MTurk does not show it (in progress, or just submitted)."""
    try:
        return str(client.get_assignment(AssignmentId=assignment_id)["Assignment"]["AssignmentStatus"])
    except Exception as exc:
        if turk_code(exc) == "AssignmentDoesNotExist":
            return None
        raise


def approve(client: Any, order: PaymentOrder) -> str:
    """The reward: approving pays it. Approving twice is refused by MTurk, so an approved assignment is success."""
    assignment_id = order.assignment.assignment_id
    try:
        client.approve_assignment(AssignmentId=assignment_id, RequesterFeedback=order.reason[:1024])
    except Exception as exc:
        code = turk_code(exc)
        if code not in ("InvalidAssignmentState", "AssignmentDoesNotExist"):
            raise PlatformError(f"MTurk refused to approve {assignment_id}: {error_message(exc)}") from exc
        status = _status(client, assignment_id)
        if status == "Approved":
            return f"approved:{assignment_id}"
        # Not submitted yet, or MTurk's eventual consistency right after a submit: try again later.
        raise PlatformError(f"assignment {assignment_id} is not approvable yet (status {status})") from exc
    return f"approved:{assignment_id}"


def bonus(client: Any, order: PaymentOrder) -> str:
    """Waiting or active pay as a bonus with UniqueRequestToken = the ledger key; MTurk needs a submitted assignment."""
    a = order.assignment
    if order.amount <= 0:
        return "nothing-to-pay"
    try:
        client.send_bonus(
            WorkerId=a.worker_id,
            AssignmentId=a.assignment_id,
            BonusAmount=f"{order.amount:.2f}",
            Reason=order.reason[:4096] or f"{order.kind} time",
            UniqueRequestToken=order.key,
        )
    except Exception as exc:
        if "has already been processed" in error_message(exc):
            return f"bonus:{order.key}"  # an earlier attempt paid it
        if turk_code(exc) == "AssignmentDoesNotExist":
            raise PlatformError(f"bonus for {a.assignment_id} waits until MTurk shows it submitted") from exc
        if turk_code(exc) == "InsufficientFunds":
            raise PlatformError("MTurk account balance too low for this bonus; add funds", transient=True) from exc
        raise PlatformError(f"MTurk refused the bonus for {a.assignment_id}: {error_message(exc)}") from exc
    return f"bonus:{order.key}"
