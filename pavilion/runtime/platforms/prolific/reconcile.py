"""Departures from Prolific's submission statuses: RETURNED -> returned, TIMED-OUT -> abandoned, done -> submitted."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from pavilion.runtime.platforms.base import Departure, DepartureHow, PlatformAssignment

HOW: Mapping[str, DepartureHow] = {
    "RETURNED": "returned",
    "REJECTED": "returned",
    "SCREENED OUT": "returned",
    "TIMED-OUT": "abandoned",
    "AWAITING REVIEW": "submitted",
    "APPROVED": "submitted",
    "PARTIALLY APPROVED": "submitted",
}


def departure(project_id: int, submission_id: str, participant_id: str, status: str, key: str = "") -> Departure | None:
    """The departure a submission status means, or None while the participant is still in (RESERVED, ACTIVE)."""
    how = HOW.get(status)
    if how is None:
        return None
    return Departure(
        worker_id=participant_id,
        assignment_id=submission_id,
        how=how,
        key=key or f"prolific:{project_id}:{submission_id}:{status}",
        timed_out=status == "TIMED-OUT",
    )


def reconcile(
    project_id: int, present: Sequence[PlatformAssignment], submissions: Iterable[Mapping[str, Any]]
) -> list[Departure]:
    """The present assignments whose submission has ended, from a listing of the study's submissions."""
    status_of = {str(s["id"]): str(s["status"]) for s in submissions}
    found = []
    for assignment in present:
        status = status_of.get(assignment.assignment_id)
        gone = departure(project_id, assignment.assignment_id, assignment.worker_id, status) if status else None
        if gone is not None:
            found.append(gone)
    return found
