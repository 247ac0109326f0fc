"""The MTurk emulator's state machine: HIT types, HITs, assignments, money and events. No I/O, clock injected.

The operations live by role: `hit_ops` (HIT types, HITs, notification settings), `review_ops` (assignments, money,
messages), `worker_side` (accept, return, submit); `base` holds the books and the rules they share.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

from pavilion.emulators.mturk.base import (
    APPROVED,
    IN_PROGRESS,
    PREVIEW_ASSIGNMENT,
    REJECTED,
    REVIEWED,
    SUBMITTED,
)
from pavilion.emulators.mturk.clock import Clock
from pavilion.emulators.mturk.errors import MTurkError
from pavilion.emulators.mturk.hit_ops import HitOperations
from pavilion.emulators.mturk.records import Notice
from pavilion.emulators.mturk.review_ops import ReviewOperations
from pavilion.emulators.mturk.worker_side import WorkerSide

__all__ = ["APPROVED", "IN_PROGRESS", "PREVIEW_ASSIGNMENT", "REJECTED", "REVIEWED", "SUBMITTED", "MTurkModel"]


class MTurkModel(HitOperations, ReviewOperations, WorkerSide):
    """Everything MTurk keeps for one requester account; `call(op, params)` answers one API request."""

    def __init__(self, clock: Clock, *, seed: int = 0, balance: Decimal = Decimal("10000.00"),
                 customer_id: str = "AEMULATEDREQUESTER", disposed_visible: bool = True) -> None:
        super().__init__(clock, seed=seed, balance=balance, customer_id=customer_id,
                         disposed_visible=disposed_visible)
        self.operations: dict[str, Callable[[Mapping[str, Any]], dict[str, Any]]] = {
            "CreateHITType": self._create_hit_type,
            "CreateHIT": self._create_hit,
            "CreateHITWithHITType": self._create_hit_with_hit_type,
            "CreateAdditionalAssignmentsForHIT": self._create_additional_assignments,
            "GetHIT": self._get_hit,
            "ListHITs": self._list_hits,
            "ListAssignmentsForHIT": self._list_assignments,
            "GetAssignment": self._get_assignment,
            "ApproveAssignment": self._approve,
            "RejectAssignment": self._reject,
            "SendBonus": self._send_bonus,
            "ListBonusPayments": self._list_bonus_payments,
            "UpdateExpirationForHIT": self._update_expiration,
            "DeleteHIT": self._delete_hit,
            "NotifyWorkers": self._notify_workers,
            "GetAccountBalance": self._get_account_balance,
            "UpdateNotificationSettings": self._update_notification_settings,
            "SendTestEventNotification": self._send_test_event,
        }

    # ---- entry points ---------------------------------------------------------------------------------------
    def call(self, op: str, params: Mapping[str, Any]) -> dict[str, Any]:
        """Answer one Requester API operation; raises MTurkError as MTurk would."""
        handler = self.operations.get(op)
        if handler is None:
            raise MTurkError("", f"Operation {op} is not supported.", kind="UnknownOperationException")
        self.tick()
        return handler(params)

    def drain(self) -> list[Notice]:
        """Hand over the events produced since the last drain, in the order they happened."""
        out, self.outbox = self.outbox, []
        return out
