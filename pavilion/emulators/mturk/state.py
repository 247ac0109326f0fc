"""The MTurk emulator's state machine: HIT types, HITs, assignments, money and events. No I/O, clock injected."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

import numpy as np

from pavilion.emulators.mturk import validate as v
from pavilion.emulators.mturk.clock import Clock
from pavilion.emulators.mturk.errors import MTurkError, invalid, request_error
from pavilion.emulators.mturk.fees import bonus_fee, reward_fee
from pavilion.emulators.mturk.records import (
    HIT,
    Assignment,
    Bonus,
    HITType,
    Notice,
    answer_xml,
    assignment_view,
    frame_url,
    iso,
    money,
)

IN_PROGRESS, SUBMITTED, APPROVED, REJECTED = "InProgress", "Submitted", "Approved", "Rejected"
REVIEWED = (SUBMITTED, APPROVED, REJECTED)
PREVIEW_ASSIGNMENT = "ASSIGNMENT_ID_NOT_AVAILABLE"
RESERVED_FIELDS = frozenset({"assignmentId", "hitId", "workerId", "turkSubmitTo"})
TOKEN_MEMORY_S = 24 * 3600
OVERRIDE_WINDOW_S = 30 * 24 * 3600
DEFAULT_AUTO_APPROVAL_S = 30 * 24 * 3600
ID_ALPHABET = np.array(list("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"))


class MTurkModel:
    """Everything MTurk keeps for one requester account; `call(op, params)` answers one API request."""

    def __init__(self, clock: Clock, *, seed: int = 0, balance: Decimal = Decimal("10000.00"),
                 customer_id: str = "AEMULATEDREQUESTER", disposed_visible: bool = True) -> None:
        self.clock = clock
        self.rng = np.random.default_rng(seed)
        self.balance = balance
        self.customer_id = customer_id
        self.disposed_visible = disposed_visible
        self.hit_types: dict[str, HITType] = {}
        self.hits: dict[str, HIT] = {}
        self.assignments: dict[str, Assignment] = {}
        self.bonuses: list[Bonus] = []
        self.tokens: dict[str, tuple[float, str]] = {}
        self.outbox: list[Notice] = []
        self.worker_messages: list[dict[str, Any]] = []
        self.charges: list[tuple[str, Decimal]] = []  # (what, amount incl. fee) for the account statement
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

    def tick(self) -> None:
        """Apply what time alone does: abandon past deadlines, auto-approve, expire HITs."""
        now = self.clock.now()
        for a in [a for a in self.assignments.values() if a.status == IN_PROGRESS and a.deadline <= now]:
            self._free(a, "AssignmentAbandoned")
        for a in [a for a in self.assignments.values() if a.status == SUBMITTED]:
            if a.auto_approval_time is not None and a.auto_approval_time <= now:
                self._do_approve(a, None, check_funds=False)
        for hit in self.hits.values():
            if not hit.disposed and not hit.expiry_announced and hit.expiration <= now:
                hit.expiry_announced = True
                self._emit("HITExpired", hit)
            self._settle(hit)

    # ---- derived values ---------------------------------------------------------------------------------
    def counts(self, hit: HIT) -> tuple[int, int, int, int]:
        """(pending, available, completed, done): done = submitted + approved + rejected."""
        mine = [a for a in self.assignments.values() if a.hit_id == hit.hit_id]
        pending = sum(a.status == IN_PROGRESS for a in mine)
        done = sum(a.status in REVIEWED for a in mine)
        completed = sum(a.status in (APPROVED, REJECTED) for a in mine)
        available = 0 if self._expired(hit) else max(0, hit.max_assignments - pending - done)
        return pending, available, completed, done

    def status(self, hit: HIT) -> str:
        if hit.disposed:
            return "Disposed"
        pending, available, _, _ = self.counts(hit)
        if (self._expired(hit) or available == 0) and pending == 0:
            return "Reviewable"
        if available == 0:
            return "Unassignable"
        return "Assignable"

    def on_hold(self) -> Decimal:
        """Liability for every slot that may still be approved: the money MTurk holds against the balance."""
        total = Decimal("0")
        for hit in self.hits.values():
            if hit.disposed:
                continue
            pending, available, _, _ = self.counts(hit)
            submitted = sum(a.hit_id == hit.hit_id and a.status == SUBMITTED for a in self.assignments.values())
            total += (pending + submitted + available) * self._unit_cost(hit)
        return total

    def available_balance(self) -> Decimal:
        return self.balance - self.on_hold()

    def _unit_cost(self, hit: HIT) -> Decimal:
        reward = self.hit_types[hit.hit_type_id].reward
        return reward + reward_fee(reward, hit.max_assignments)

    def _expired(self, hit: HIT) -> bool:
        return hit.expiration <= self.clock.now()

    # ---- events ------------------------------------------------------------------------------------------
    def _emit(self, event_type: str, hit: HIT, assignment_id: str | None = None) -> None:
        hit_type = self.hit_types[hit.hit_type_id]
        spec = hit_type.notification
        if spec is None or not hit_type.notification_active or event_type not in spec["EventTypes"]:
            return
        event: dict[str, Any] = {"EventType": event_type, "EventTimestamp": iso(self.clock.now()),
                                 "HITId": hit.hit_id, "HITTypeId": hit.hit_type_id}
        if assignment_id is not None:
            event["AssignmentId"] = assignment_id
        self.outbox.append(Notice(spec["Destination"], spec["Transport"], spec["Version"], event))

    def _settle(self, hit: HIT) -> None:
        """Record the HIT's status; the move into Reviewable is an event of its own."""
        status = self.status(hit)
        if status == "Reviewable" and hit.last_status != "Reviewable":
            self._emit("HITReviewable", hit)
        hit.last_status = status

    # ---- lookups and tokens -------------------------------------------------------------------------------
    def _new_id(self) -> str:
        return "".join(self.rng.choice(ID_ALPHABET, size=30))

    def _hit(self, params: Mapping[str, Any], *, allow_disposed: bool = False) -> HIT:
        hit_id = v.entity_id(params, "HITId")
        hit = self.hits.get(hit_id)
        if hit is None or (hit.disposed and not allow_disposed):
            raise request_error("HITDoesNotExist", f"Hit {hit_id} does not exist.")
        return hit

    def _reviewable_assignment(self, assignment_id: str) -> Assignment:
        """Only submitted, approved or rejected work exists for the requester; in-progress work does not."""
        a = self.assignments.get(assignment_id)
        if a is None or a.status == IN_PROGRESS:
            raise request_error("AssignmentDoesNotExist", f"Assignment {assignment_id} does not exist.")
        return a

    def _seen_token(self, op: str, token: str | None) -> str | None:
        if token is None:
            return None
        now = self.clock.now()
        self.tokens = {k: t for k, t in self.tokens.items() if now - t[0] < TOKEN_MEMORY_S}
        hit = self.tokens.get(f"{op}:{token}")
        return hit[1] if hit else None

    def _remember_token(self, op: str, token: str | None, result: str) -> None:
        if token is not None:
            self.tokens[f"{op}:{token}"] = (self.clock.now(), result)

    # ---- HIT types and HITs --------------------------------------------------------------------------------
    def _hit_type_from(self, p: Mapping[str, Any]) -> HITType:
        reward = v.amount(v.required(p, "Reward"), "Reward")
        attrs = dict(
            title=v.text(p, "Title", 128), description=v.text(p, "Description", 2000), reward=reward,
            assignment_duration_s=v.integer(p, "AssignmentDurationInSeconds", 30, 31_536_000),
            auto_approval_delay_s=v.integer(p, "AutoApprovalDelayInSeconds", 0, 2_592_000, DEFAULT_AUTO_APPROVAL_S),
            keywords=v.text(p, "Keywords", 1000, ""), qualification_requirements=v.qualification_requirements(p),
        )
        # MTurk reuses a HIT type whose attributes are all equal, so identical requests share one type.
        for existing in self.hit_types.values():
            if all(getattr(existing, k) == val for k, val in attrs.items()):
                return existing
        hit_type = HITType(hit_type_id=self._new_id(), **attrs)  # type: ignore[arg-type]
        self.hit_types[hit_type.hit_type_id] = hit_type
        return hit_type

    def _create_hit_type(self, p: Mapping[str, Any]) -> dict[str, Any]:
        return {"HITTypeId": self._hit_type_from(p).hit_type_id}

    def _create_hit(self, p: Mapping[str, Any]) -> dict[str, Any]:
        return self._create_hit_of_type(self._hit_type_from(p), p)

    def _create_hit_with_hit_type(self, p: Mapping[str, Any]) -> dict[str, Any]:
        type_id = v.entity_id(p, "HITTypeId")
        if type_id not in self.hit_types:
            raise request_error("HITTypeDoesNotExist", f"HIT type {type_id} does not exist.")
        return self._create_hit_of_type(self.hit_types[type_id], p)

    def _create_hit_of_type(self, hit_type: HITType, p: Mapping[str, Any]) -> dict[str, Any]:
        token = v.token(p)
        lifetime = v.integer(p, "LifetimeInSeconds", 30, 31_536_000)
        max_assignments = v.integer(p, "MaxAssignments", 1, 1_000_000, 1)
        question = v.question(p)
        annotation = p.get("RequesterAnnotation")
        if annotation is not None:
            annotation = v.text(p, "RequesterAnnotation", 255)
        existing = self._seen_token("CreateHIT", token)
        if existing is not None:
            raise request_error("HitAlreadyExists", f'The HIT with ID "{existing}" already exists.')
        now = self.clock.now()
        hit = HIT(self._new_id(), hit_type.hit_type_id, now, now + lifetime, question, max_assignments,
                  max_assignments, annotation)
        if self.available_balance() < max_assignments * self._unit_cost(hit):
            raise request_error("InsufficientFunds", "You do not have enough funds to create this HIT.")
        self.hits[hit.hit_id] = hit
        self._remember_token("CreateHIT", token, hit.hit_id)
        self._emit("HITCreated", hit)
        return {"HIT": self.hit_view(hit)}

    def _create_additional_assignments(self, p: Mapping[str, Any]) -> dict[str, Any]:
        hit = self._hit(p)
        extra = v.integer(p, "NumberOfAdditionalAssignments", 1, 1_000_000)
        token = v.token(p)
        if self._seen_token("CreateAdditionalAssignmentsForHIT", token) is not None:
            raise request_error("DuplicateRequest", f'The idempotency token "{token}" has already been processed.')
        if hit.original_max < 10 and hit.max_assignments + extra >= 10:
            raise request_error(
                "InvalidMaximumAssignmentsIncrease",
                "The maximum number of assignments of a HIT created with fewer than 10 assignments cannot be "
                "increased to 10 or more.")
        if self.available_balance() < extra * self._unit_cost(hit):
            raise request_error("InsufficientFunds", "You do not have enough funds to add these assignments.")
        hit.max_assignments += extra
        self._remember_token("CreateAdditionalAssignmentsForHIT", token, hit.hit_id)
        self._emit("HITExtended", hit)
        self._settle(hit)
        return {}

    def _get_hit(self, p: Mapping[str, Any]) -> dict[str, Any]:
        return {"HIT": self.hit_view(self._hit(p, allow_disposed=self.disposed_visible))}

    def _list_hits(self, p: Mapping[str, Any]) -> dict[str, Any]:
        hits = [h for h in self.hits.values() if not h.disposed]
        page, token = _page(hits, p)
        out: dict[str, Any] = {"NumResults": len(page), "HITs": [self.hit_view(h) for h in page]}
        if token:
            out["NextToken"] = token
        return out

    def _update_expiration(self, p: Mapping[str, Any]) -> dict[str, Any]:
        hit = self._hit(p)
        expire_at, now = v.timestamp(p, "ExpireAt"), self.clock.now()
        if expire_at <= now:
            hit.expiration = min(hit.expiration, now)
            if not hit.expiry_announced:
                hit.expiry_announced = True
                self._emit("HITExpired", hit)
        else:
            hit.expiration, hit.expiry_announced = expire_at, False
        self._settle(hit)
        return {}

    def _delete_hit(self, p: Mapping[str, Any]) -> dict[str, Any]:
        hit = self._hit(p, allow_disposed=True)
        status = self.status(hit)
        unreviewed = any(a.hit_id == hit.hit_id and a.status == SUBMITTED for a in self.assignments.values())
        if status not in ("Reviewable", "Reviewing") or unreviewed:
            raise request_error("InvalidHITState", f"This HIT is currently in the state '{status}'. This operation "
                                                   "can be called with a status of: Reviewing, Reviewable")
        self._emit("HITDisposed", hit)
        hit.disposed = True
        hit.last_status = "Disposed"
        return {}

    def hit_view(self, hit: HIT) -> dict[str, Any]:
        t = self.hit_types[hit.hit_type_id]
        pending, available, completed, _ = self.counts(hit)
        out: dict[str, Any] = {
            "HITId": hit.hit_id, "HITTypeId": t.hit_type_id, "HITGroupId": t.hit_type_id,
            "CreationTime": hit.creation_time, "Title": t.title, "Description": t.description,
            "Question": hit.question, "Keywords": t.keywords, "HITStatus": self.status(hit),
            "MaxAssignments": hit.max_assignments, "Reward": money(t.reward),
            "AutoApprovalDelayInSeconds": t.auto_approval_delay_s, "Expiration": hit.expiration,
            "AssignmentDurationInSeconds": t.assignment_duration_s,
            "QualificationRequirements": t.qualification_requirements, "HITReviewStatus": "NotReviewed",
            "NumberOfAssignmentsPending": pending, "NumberOfAssignmentsAvailable": available,
            "NumberOfAssignmentsCompleted": completed,
        }
        if hit.annotation is not None:
            out["RequesterAnnotation"] = hit.annotation
        return out

    # ---- assignments ----------------------------------------------------------------------------------------
    def _list_assignments(self, p: Mapping[str, Any]) -> dict[str, Any]:
        hit = self._hit(p)
        statuses = p.get("AssignmentStatuses") or list(REVIEWED)
        if any(s not in REVIEWED for s in statuses):
            raise invalid("AssignmentStatuses must be among Submitted, Approved, Rejected")
        mine = [a for a in self.assignments.values() if a.hit_id == hit.hit_id and a.status in statuses]
        page, token = _page(sorted(mine, key=lambda a: a.accept_time), p)
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

    def _do_approve(self, a: Assignment, feedback: str | None, *, check_funds: bool) -> None:
        hit = self.hits[a.hit_id]
        cost = self._unit_cost(hit)
        if check_funds and self.balance < cost:
            raise request_error("InsufficientFunds", "You do not have enough funds to approve this assignment.")
        self.balance -= cost
        self.charges.append((f"reward {a.assignment_id}", cost))
        a.status, a.approval_time, a.rejection_time = APPROVED, self.clock.now(), None
        if feedback:
            a.feedback = feedback
        self._emit("AssignmentApproved", hit, a.assignment_id)

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
        page, token = _page(chosen, p)
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

    # ---- notification settings ---------------------------------------------------------------------------------
    def _update_notification_settings(self, p: Mapping[str, Any]) -> dict[str, Any]:
        type_id = v.entity_id(p, "HITTypeId")
        hit_type = self.hit_types.get(type_id)
        if hit_type is None:
            raise request_error("HITTypeDoesNotExist", f"HIT type {type_id} does not exist.")
        spec, active = p.get("Notification"), p.get("Active")
        if spec is None and active is None:
            raise invalid("Specify a Notification, Active, or both")
        if spec is not None:
            hit_type.notification = _notification_spec(spec)
            hit_type.notification_active = True if active is None else bool(active)
        elif hit_type.notification is None:
            raise invalid("The HIT type has no notification specification to activate")
        else:
            hit_type.notification_active = bool(active)
        return {}

    def _send_test_event(self, p: Mapping[str, Any]) -> dict[str, Any]:
        spec = _notification_spec(v.required(p, "Notification"))
        event_type = v.required(p, "TestEventType")
        if event_type not in v.EVENT_TYPES:
            raise invalid(f"Value '{event_type}' at 'TestEventType' is not a valid event type")
        event = {"EventType": event_type, "EventTimestamp": iso(self.clock.now()), "HITId": "TESTHITID",
                 "HITTypeId": "TESTHITTYPEID", "AssignmentId": "TESTASSIGNMENTID"}
        self.outbox.append(Notice(spec["Destination"], spec["Transport"], spec["Version"], event))
        return {}

    # ---- the worker side (not part of the Requester API) ----------------------------------------------------------
    def assignable_hits(self) -> list[HIT]:
        self.tick()
        return [h for h in self.hits.values() if self.status(h) == "Assignable"]

    def preview_url(self, hit_id: str, submit_to: str) -> str:
        self.tick()
        hit = self._hit({"HITId": hit_id})
        return frame_url(hit.question, {"assignmentId": PREVIEW_ASSIGNMENT, "hitId": hit.hit_id,
                                        "turkSubmitTo": submit_to})

    def accept(self, hit_id: str, worker_id: str) -> Assignment:
        """A worker accepts a HIT: a freed assignment id is handed out first, as MTurk does."""
        self.tick()
        hit = self._hit({"HITId": hit_id})
        v.worker_id(worker_id)
        if self.status(hit) != "Assignable":
            raise request_error("InvalidHITState", f"This HIT is currently in the state '{self.status(hit)}' "
                                                   "and cannot be accepted.")
        if any(a.hit_id == hit.hit_id and a.worker_id == worker_id for a in self.assignments.values()):
            raise request_error("PermissionDenied", "You have already accepted this HIT.")
        now = self.clock.now()
        duration = self.hit_types[hit.hit_type_id].assignment_duration_s
        assignment_id = hit.free_ids.pop(0) if hit.free_ids else self._new_id()
        a = Assignment(assignment_id, hit.hit_id, worker_id, IN_PROGRESS, now, now + duration)
        self.assignments[assignment_id] = a
        self._emit("AssignmentAccepted", hit, assignment_id)
        self._settle(hit)
        return a

    def worker_url(self, a: Assignment, submit_to: str) -> str:
        return frame_url(self.hits[a.hit_id].question, {"assignmentId": a.assignment_id, "hitId": a.hit_id,
                                                         "turkSubmitTo": submit_to, "workerId": a.worker_id})

    def return_assignment(self, assignment_id: str) -> None:
        self.tick()
        a = self.assignments.get(assignment_id)
        if a is None or a.status != IN_PROGRESS:
            raise request_error("AssignmentDoesNotExist", f"Assignment {assignment_id} is not in progress.")
        self._free(a, "AssignmentReturned")

    def abandon(self, assignment_id: str) -> None:
        """Jump this one assignment to its deadline: the worker walked away and the timer ran out."""
        a = self.assignments.get(assignment_id)
        if a is None or a.status != IN_PROGRESS:
            raise request_error("AssignmentDoesNotExist", f"Assignment {assignment_id} is not in progress.")
        a.deadline = min(a.deadline, self.clock.now())
        self.tick()

    def submit(self, fields: Mapping[str, str]) -> Assignment:
        """The worker's browser posts the externalSubmit form."""
        self.tick()
        assignment_id = fields.get("assignmentId", "")
        a = self.assignments.get(assignment_id)
        if a is None or a.status != IN_PROGRESS:
            raise request_error("AssignmentDoesNotExist", f"Assignment {assignment_id!r} is not in progress.")
        now = self.clock.now()
        hit = self.hits[a.hit_id]
        delay = self.hit_types[hit.hit_type_id].auto_approval_delay_s
        a.status, a.submit_time, a.auto_approval_time = SUBMITTED, now, now + delay
        a.answer = answer_xml({k: val for k, val in fields.items() if k not in RESERVED_FIELDS})
        self._emit("AssignmentSubmitted", hit, a.assignment_id)
        self._settle(hit)
        self.tick()  # AutoApprovalDelay 0 approves at once
        return a

    def _free(self, a: Assignment, event_type: str) -> None:
        """A returned or abandoned assignment vanishes from the API; its id waits for the next worker."""
        hit = self.hits[a.hit_id]
        del self.assignments[a.assignment_id]
        hit.free_ids.append(a.assignment_id)
        self._emit(event_type, hit, a.assignment_id)
        self._settle(hit)


def _page(items: list[Any], p: Mapping[str, Any]) -> tuple[list[Any], str | None]:
    """MTurk pages: a NextToken on every non-empty page; the page after the last one is empty."""
    size = v.integer(p, "MaxResults", 1, 100, 10)
    raw = p.get("NextToken")
    try:
        start = int(raw[4:]) if raw else 0
        if raw and not raw.startswith("page"):
            raise ValueError(raw)
    except (TypeError, ValueError):
        raise invalid(f"Value '{raw}' at 'NextToken' is not a valid pagination token") from None
    page = items[start : start + size]
    return page, (f"page{start + len(page)}" if page else None)


def _notification_spec(spec: Any) -> dict[str, Any]:
    if not isinstance(spec, dict):
        raise invalid("Notification must be a structure")
    for key in ("Destination", "Transport", "Version", "EventTypes"):
        v.required(spec, key)
    if spec["Transport"] not in v.TRANSPORTS:
        raise invalid(f"Value '{spec['Transport']}' at 'Notification.Transport' must be one of Email, SQS, SNS")
    events = spec["EventTypes"]
    if not isinstance(events, list) or not events or any(e not in v.EVENT_TYPES for e in events):
        raise invalid(f"Value '{events}' at 'Notification.EventTypes' holds an unknown event type")
    return {"Destination": spec["Destination"], "Transport": spec["Transport"], "Version": spec["Version"],
            "EventTypes": list(events)}
