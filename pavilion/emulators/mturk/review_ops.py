"""The Requester API on work done: assignments, approval and rejection, bonuses, balance, worker messages."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pavilion.emulators.mturk import validate as v
from pavilion.emulators.mturk.base import (
    APPROVED,
    IN_PROGRESS,
    OVERRIDE_WINDOW_S,
    REJECTED,
    REVIEWED,
    SUBMITTED,
    ModelBase,
    paginate,
)
from pavilion.emulators.mturk.errors import invalid, request_error
from pavilion.emulators.mturk.fees import bonus_fee
from pavilion.emulators.mturk.records import Bonus, assignment_view, money


class ReviewOperations(ModelBase):
    """ListAssignmentsForHIT, GetAssignment, Approve/RejectAssignment, SendBonus, balance, NotifyWorkers."""

    # ---- assignments ----------------------------------------------------------------------------------------
    def _list_assignments(self, p: Mapping[str, Any]) -> dict[str, Any]:
        hit = self._hit(p)
        statuses = p.get("AssignmentStatuses") or list(REVIEWED)
        if any(s not in REVIEWED for s in statuses):
            raise invalid("AssignmentStatuses must be among Submitted, Approved, Rejected")
        mine = [a for a in self.assignments.values() if a.hit_id == hit.hit_id and a.status in statuses]
        page, token = paginate(sorted(mine, key=lambda a: a.accept_time), p)
        out: dict[str, Any] = {"NumResults": len(page), "Assignments": [assignment_view(a) for a in page]}
        if token:
            out["NextToken"] = token
        return out

    def _get_assignment(self, p: Mapping[str, Any]) -> dict[str, Any]:
        a = self._reviewable_assignment(v.entity_id(p, "AssignmentId"))
        return {"Assignment": assignment_view(a), "HIT": self.hit_view(self.hits[a.hit_id])}

    def _approve(self, p: Mapping[str, Any]) -> dict[str, Any]:
        a = self._reviewable_assignment(v.entity_id(p, "AssignmentId"))
        feedback = v.text(p, "RequesterFeedback", 1024, "") or None
        override = bool(p.get("OverrideRejection", False))
        now = self.clock.now()
        late = a.rejection_time is not None and now - a.rejection_time > OVERRIDE_WINDOW_S
        if not (a.status == SUBMITTED or (a.status == REJECTED and override and not late)):
            raise request_error("InvalidAssignmentState", "This operation can be called with a status of: Submitted")
        self._do_approve(a, feedback, check_funds=True)
        return {}


    def _reject(self, p: Mapping[str, Any]) -> dict[str, Any]:
        a = self._reviewable_assignment(v.entity_id(p, "AssignmentId"))
        feedback = v.text(p, "RequesterFeedback", 1024)
        if a.status != SUBMITTED:
            raise request_error("InvalidAssignmentState", "This operation can be called with a status of: Submitted")
        a.status, a.rejection_time, a.feedback = REJECTED, self.clock.now(), feedback
        self._emit("AssignmentRejected", self.hits[a.hit_id], a.assignment_id)
        return {}

    # ---- bonuses, balance, messages -------------------------------------------------------------------------
    def _send_bonus(self, p: Mapping[str, Any]) -> dict[str, Any]:
        worker = v.worker_id(v.required(p, "WorkerId"))
        assignment_id = v.entity_id(p, "AssignmentId")
        bonus = v.amount(v.required(p, "BonusAmount"), "BonusAmount")
        reason = v.text(p, "Reason", 4096)
        token = v.token(p)
        if self._seen_token("SendBonus", token) is not None:
            raise request_error("DuplicateRequest", f'The idempotency token "{token}" has already been processed.')
        a = self.assignments.get(assignment_id)
        if a is None or a.status == IN_PROGRESS or a.worker_id != worker:
            raise request_error("AssignmentDoesNotExist", f"Assignment {assignment_id} does not exist.")
        cost = bonus + bonus_fee(bonus)
        if self.available_balance() < cost:
            raise request_error("InsufficientFunds", "You do not have enough funds to pay this bonus.")
        self.balance -= cost
        self.charges.append((f"bonus {assignment_id}", cost))
        self.bonuses.append(Bonus(worker, assignment_id, a.hit_id, bonus, reason, self.clock.now()))
        self._remember_token("SendBonus", token, assignment_id)
        return {}

    def _list_bonus_payments(self, p: Mapping[str, Any]) -> dict[str, Any]:
        if ("HITId" in p) == ("AssignmentId" in p):
            raise invalid("Specify exactly one of HITId and AssignmentId")
        if "HITId" in p:
            hit_id = self._hit(p, allow_disposed=True).hit_id
            chosen = [b for b in self.bonuses if b.hit_id == hit_id]
        else:
            assignment_id = v.entity_id(p, "AssignmentId")
            chosen = [b for b in self.bonuses if b.assignment_id == assignment_id]
        page, token = paginate(chosen, p)
        out: dict[str, Any] = {"NumResults": len(page), "BonusPayments": [
            {"WorkerId": b.worker_id, "BonusAmount": money(b.amount), "AssignmentId": b.assignment_id,
             "Reason": b.reason, "GrantTime": b.grant_time} for b in page]}
        if token:
            out["NextToken"] = token
        return out

    def _get_account_balance(self, p: Mapping[str, Any]) -> dict[str, Any]:
        return {"AvailableBalance": money(self.available_balance()), "OnHoldBalance": money(self.on_hold())}

    def _notify_workers(self, p: Mapping[str, Any]) -> dict[str, Any]:
        subject, text = v.text(p, "Subject", 200), v.text(p, "MessageText", 4096)
        workers = v.required(p, "WorkerIds")
        if not isinstance(workers, list) or not 1 <= len(workers) <= 100:
            raise invalid("WorkerIds must hold between 1 and 100 worker IDs")
        reviewed = {a.worker_id for a in self.assignments.values() if a.status in (APPROVED, REJECTED)}
        failures = []
        for worker in workers:
            v.worker_id(worker, "WorkerIds")
            if worker in reviewed:
                self.worker_messages.append({"WorkerId": worker, "Subject": subject, "MessageText": text})
            else:
                failures.append({"NotifyWorkersFailureCode": "HardFailure", "WorkerId": worker,
                                 "NotifyWorkersFailureMessage": "Cannot send a message to a worker who has not "
                                                                "done work for you."})
        return {"NotifyWorkersFailureStatuses": failures}

