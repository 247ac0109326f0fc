"""The emulator's worker side (not part of the Requester API): accept, return, abandon, submit."""

from __future__ import annotations

from collections.abc import Mapping

from pavilion.emulators.mturk import validate as v
from pavilion.emulators.mturk.base import IN_PROGRESS, PREVIEW_ASSIGNMENT, RESERVED_FIELDS, SUBMITTED, ModelBase
from pavilion.emulators.mturk.errors import request_error
from pavilion.emulators.mturk.records import HIT, Assignment, answer_xml, frame_url


class WorkerSide(ModelBase):
    """What a worker's browser does on MTurk, as the emulator's worker pages call it."""

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

