"""The MTurk emulator's books: what it keeps, what time alone does, derived counts, events, lookups and tokens."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

import numpy as np

from pavilion.emulators.mturk import validate as v
from pavilion.emulators.mturk.clock import Clock
from pavilion.emulators.mturk.errors import invalid, request_error
from pavilion.emulators.mturk.fees import reward_fee
from pavilion.emulators.mturk.records import HIT, Assignment, Bonus, HITType, Notice, iso, money

IN_PROGRESS, SUBMITTED, APPROVED, REJECTED = "InProgress", "Submitted", "Approved", "Rejected"
REVIEWED = (SUBMITTED, APPROVED, REJECTED)
PREVIEW_ASSIGNMENT = "ASSIGNMENT_ID_NOT_AVAILABLE"
RESERVED_FIELDS = frozenset({"assignmentId", "hitId", "workerId", "turkSubmitTo"})
TOKEN_MEMORY_S = 24 * 3600
OVERRIDE_WINDOW_S = 30 * 24 * 3600
DEFAULT_AUTO_APPROVAL_S = 30 * 24 * 3600
ID_ALPHABET = np.array(list("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"))


class ModelBase:
    """The state of one requester account and the rules every operation shares; no I/O, clock injected."""

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

    # ---- time ----------------------------------------------------------------------------------------------
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


    # ---- moves that time can make too -------------------------------------------------------------------------
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


    def _free(self, a: Assignment, event_type: str) -> None:
        """A returned or abandoned assignment vanishes from the API; its id waits for the next worker."""
        hit = self.hits[a.hit_id]
        del self.assignments[a.assignment_id]
        hit.free_ids.append(a.assignment_id)
        self._emit(event_type, hit, a.assignment_id)
        self._settle(hit)



def paginate(items: list[Any], p: Mapping[str, Any]) -> tuple[list[Any], str | None]:
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

